package io.mlgateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.api.Route.Access;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpMethod;
import org.springframework.http.server.PathContainer;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;

/** The route table: what each path is, which key it takes, what the direct routes serve. */
class ApiRoutesTest {

    // Handlers are only referenced, never called, here.
    private final ApiRoutes routes = new ApiRoutes(new RegnoHandler(null, null), new RentalsHandler(null, null),
            new ModelOperationsHandler(null, null), new InferenceHandler(null, null));

    @Test
    void everyPathIsDeclaredOnceAndTheSingleRowEndpointsAreServedDirect() {
        assertThat(routes.all()).extracting(Route::toString).doesNotHaveDuplicates();
        assertThat(routes.direct()).extracting(Route::toString).containsExactly(
                "POST /reg/", "POST /reg", "POST /v1/regno/predict", "POST /v1/rentals/{userId}/predict",
                "POST /v2/models/{model}/infer", "POST /v2/models/{model}/versions/{version}/infer");
        assertThat(routes.methodsByPath().get("/v1/rentals/{userId}/model"))
                .containsExactly(HttpMethod.GET, HttpMethod.HEAD);
    }

    @Test
    void templatesTakeOneSegmentAndDecodeIt() {
        Route predict = routes.direct().get(3);
        assertThat(predict.variablesRaw("/v1/rentals/user-1/predict")).containsEntry("userId", "user-1");
        assertThat(predict.variablesRaw("/v1/rentals/us%65r/predict")).containsEntry("userId", "user");
        assertThat(predict.matchesRaw("/v1/rentals/a/b/predict")).isFalse();
        assertThat(predict.matchesRaw("/v1/rentals//predict")).isFalse();
        assertThat(predict.matchesRaw("/v1/rentals/user-1/predict/batch")).isFalse();
        assertThat(predict.matchesRaw("/v1/rentals/predict")).isFalse();
    }

    @Test
    void theDirectRoutesAllocationFreeMatcherAgreesWithSpringsPathPatterns() {
        List<String> paths = List.of("/reg/", "/reg", "/reg//", "/reg/x", "/v1/regno/predict", "/v1/regno/predict/",
                "/v1/regno/predict/batch", "/v1/rentals/user-1/predict", "/v1/rentals/us%65r/predict",
                "/v1/rentals/%E2%82%AC/predict", "/v1/rentals//predict", "/v1/rentals/a/b/predict",
                "/v1/rentals/user-1/predict/batch", "/v1/rentals/predict", "/v1/rentals/user-1/predict/", "", "v1",
                "/V1/regno/predict", "/v1/rentals/u/model", "/v2", "/v2/", "/v2/models/regno", "/v2/models/regno/ready",
                "/v2/models/regno/infer", "/v2/models/regno/versions/7/infer", "/v2/models/regno/versions//infer",
                "/v2/models/ready", "/v2/health/live", "/v2/models/x/versions/1/ready");
        for (Route route : routes.all()) {
            PathPattern pattern = PathPatternParser.defaultInstance.parse(route.path());
            for (String path : paths) {
                PathPattern.PathMatchInfo spring = pattern.matchAndExtract(PathContainer.parsePath(path));
                assertThat(route.matchesRaw(path)).as("%s on %s", route, path).isEqualTo(spring != null);
                if (spring != null) {
                    assertThat(route.variablesRaw(path)).as("%s on %s", route, path).isEqualTo(spring.getUriVariables());
                }
            }
        }
        assertThat(routes.direct().get(3).variablesRaw("/v1/rentals/%E2%82%AC/predict")).containsEntry("userId", "€");
    }

    @Test
    void keysFollowTheTableAndUnknownApiPathsStillTakeOne() {
        assertThat(routes.access("/v1/regno/predict")).contains(Access.CLIENT);
        assertThat(routes.access("/reg/")).contains(Access.CLIENT);
        assertThat(routes.access("/reg")).contains(Access.CLIENT);
        assertThat(routes.access("/v1/admin/rentals/u/rollback")).contains(Access.ADMIN);
        assertThat(routes.access("/v1/admin/nothing-here")).contains(Access.ADMIN);
        assertThat(routes.access("/v1/nothing-here")).contains(Access.CLIENT);
        assertThat(routes.access("/register")).isEqualTo(Optional.empty());
        assertThat(routes.access("/v10")).isEqualTo(Optional.empty());
        assertThat(routes.access("/v2/health/live")).contains(Access.PUBLIC);
        assertThat(routes.access("/v2/health/ready")).contains(Access.PUBLIC);
        assertThat(routes.access("/v2/health/other")).contains(Access.CLIENT);
        assertThat(routes.access("/v2")).contains(Access.CLIENT);
        assertThat(routes.access("/v2/models/regno/infer")).contains(Access.CLIENT);
        assertThat(routes.access("/v20")).isEqualTo(Optional.empty());
    }
}
