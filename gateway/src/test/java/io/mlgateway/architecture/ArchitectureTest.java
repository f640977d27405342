package io.mlgateway.architecture;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import io.mlgateway.api.ApiRoutes;
import io.mlgateway.rentals.DeliberatelyWrongImport;
import org.junit.jupiter.api.Test;

/**
 * The design as drawn in docs/ARCHITECTURE.md, checked on the compiled classes: requests flow down through
 * HTTP and gRPC (two transports, one data plane) → capability services (which implement the inference protocol's model interface) → serving infrastructure → shared contracts → platform, never up, and no two packages
 * depend on each other. Error types ({@code io.mlgateway.errors}) may be raised anywhere; only the HTTP layer turns
 * them into answers.
 */
class ArchitectureTest {

    static final String HTTP = "HTTP";
    static final String GRPC = "gRPC";
    static final String CAPABILITIES = "Capability services";
    static final String PROTOCOL = "Inference protocol";
    static final String SERVING = "Scoring, model store, inference log";
    static final String CONTRACTS = "Shared contracts";
    static final String PLATFORM = "Platform";
    static final String ERRORS = "Errors";

    /**
     * The gateway's main classes and the shared module's, from its jar or its classes directory (test classes, the
     * shared test jar's included, are not part of the design).
     */
    static final JavaClasses GATEWAY = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .withImportOption(location -> !location.contains("-tests.jar"))
            .importPackages("io.mlgateway");

    static final ArchRule LAYERS = layeredArchitecture().consideringOnlyDependenciesInLayers()
            .layer(HTTP).definedBy("io.mlgateway.api..")
            .layer(GRPC).definedBy("io.mlgateway.grpc..")
            .layer(CAPABILITIES).definedBy("io.mlgateway.regno..", "io.mlgateway.rentals..", "io.mlgateway.modelops..")
            .layer(PROTOCOL).definedBy("io.mlgateway.oip..")
            .layer(SERVING).definedBy("io.mlgateway.scoring..", "io.mlgateway.modelstore..",
                    "io.mlgateway.inferencelog..", "io.mlgateway.access..")
            .layer(CONTRACTS).definedBy("io.mlgateway.shared.actuals..", "io.mlgateway.shared.features..",
                    "io.mlgateway.shared.inferencelog..", "io.mlgateway.shared.modelstore..",
                    "io.mlgateway.shared.notify..", "io.mlgateway.shared.schema..", "io.mlgateway.shared.trees..",
                    "io.mlgateway.shared.training..")
            .layer(PLATFORM).definedBy("io.mlgateway.shared.storage..", "io.mlgateway.shared.lifecycle..",
                    "io.mlgateway.shared.logging..", "io.mlgateway.shared.config..")
            .layer(ERRORS).definedBy("io.mlgateway.errors..")
            .whereLayer(HTTP).mayNotBeAccessedByAnyLayer()
            .whereLayer(GRPC).mayNotBeAccessedByAnyLayer()
            .whereLayer(CAPABILITIES).mayOnlyBeAccessedByLayers(HTTP)
            .whereLayer(PROTOCOL).mayOnlyBeAccessedByLayers(HTTP, GRPC, CAPABILITIES)
            .whereLayer(SERVING).mayOnlyBeAccessedByLayers(HTTP, GRPC, CAPABILITIES)
            .whereLayer(CONTRACTS).mayOnlyBeAccessedByLayers(HTTP, CAPABILITIES, SERVING, PLATFORM)
            .whereLayer(PLATFORM).mayOnlyBeAccessedByLayers(HTTP, GRPC, CAPABILITIES, PROTOCOL, SERVING, CONTRACTS)
            .whereLayer(ERRORS).mayOnlyBeAccessedByLayers(HTTP, GRPC, CAPABILITIES, PROTOCOL, SERVING)
            .because("requests flow down the layers; a lower layer never calls up (docs/ARCHITECTURE.md)");

    static final ArchRule NO_CYCLES = slices().matching("io.mlgateway.(**)").should().beFreeOfCycles()
            .because("a package cycle is one component pretending to be two");

    @Test
    void dependenciesGoDownTheLayers() {
        LAYERS.check(GATEWAY);
    }

    @Test
    void packagesAreFreeOfCycles() {
        NO_CYCLES.check(GATEWAY);
    }

    @Test
    void aCapabilityReachingUpIntoTheHttpLayerIsRefused() {
        JavaClasses wrong = new ClassFileImporter().importClasses(DeliberatelyWrongImport.class, ApiRoutes.class);
        assertThatThrownBy(() -> LAYERS.check(wrong)).isInstanceOf(AssertionError.class)
                .hasMessageContaining(DeliberatelyWrongImport.class.getName())
                .hasMessageContaining(ApiRoutes.class.getName());
    }
}
