package io.mlgateway.rentals;

import org.springframework.test.context.TestPropertySource;

/** {@link RentalsApiTest}'s whole contract again, with every request answered by the WebFlux routes. */
@TestPropertySource(properties = "gateway.api.direct-routes=false")
class RentalsApiOnWebFluxTest extends RentalsApiTest {
}
