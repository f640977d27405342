package io.mlgateway.regno;

import org.springframework.test.context.TestPropertySource;

/** {@link RegnoApiTest}'s whole contract again, with every request answered by the WebFlux routes. */
@TestPropertySource(properties = "gateway.api.direct-routes=false")
class RegnoApiOnWebFluxTest extends RegnoApiTest {
}
