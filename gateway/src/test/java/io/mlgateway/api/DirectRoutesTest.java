package io.mlgateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Which requests the direct routes take; everything they refuse is answered by WebFlux (see the API tests). */
class DirectRoutesTest {

    @Test
    void onlyJsonContentTypesWithOrWithoutParameters() {
        assertThat(DirectRoutes.isJson("application/json")).isTrue();
        assertThat(DirectRoutes.isJson("Application/JSON; charset=UTF-8")).isTrue();
        assertThat(DirectRoutes.isJson(null)).isFalse();
        assertThat(DirectRoutes.isJson("text/plain")).isFalse();
        assertThat(DirectRoutes.isJson("application/json-patch+json")).isFalse();
    }

    @Test
    void acceptHeadersThatAdmitJson() {
        assertThat(DirectRoutes.acceptsJson(null)).isTrue();
        assertThat(DirectRoutes.acceptsJson("*/*")).isTrue();
        assertThat(DirectRoutes.acceptsJson("text/html, application/json;q=0.9")).isTrue();
        assertThat(DirectRoutes.acceptsJson("application/*")).isTrue();
        assertThat(DirectRoutes.acceptsJson("text/html")).isFalse();
    }
}
