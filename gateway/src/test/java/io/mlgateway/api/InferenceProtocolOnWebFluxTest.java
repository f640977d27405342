package io.mlgateway.api;

import org.springframework.test.context.TestPropertySource;

/** {@link InferenceProtocolTest}'s whole contract again, with every request answered by the WebFlux routes. */
@TestPropertySource(properties = "gateway.api.direct-routes=false")
class InferenceProtocolOnWebFluxTest extends InferenceProtocolTest {
}
