package io.mlgateway.rentals;

import io.mlgateway.api.ApiRoutes;

/**
 * A capability class reaching up into the HTTP layer, which {@code ArchitectureTest} must refuse. Test sources only:
 * the rules check the main classes, and this one proves they would catch such an import there.
 */
public class DeliberatelyWrongImport {

    ApiRoutes routes;
}
