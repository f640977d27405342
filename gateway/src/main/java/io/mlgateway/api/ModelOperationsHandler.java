package io.mlgateway.api;

import io.mlgateway.errors.ApiException;
import io.mlgateway.modelops.ModelOperations;
import io.mlgateway.rentals.RentalsRequestParser;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A user's version history and live quality (client key); rollback and promotion (admin key, see {@link ApiRoutes}).
 */
@Component
public class ModelOperationsHandler {

    static final int MAX_LIMIT = 1000;
    static final int MAX_WINDOW = 10_000;
    static final int MAX_REASON = 500;

    private final ModelOperations operations;
    private final JsonMapper json;

    public ModelOperationsHandler(ModelOperations operations, JsonMapper json) {
        this.operations = operations;
        this.json = json;
    }

    Mono<ModelOperations.History> history(ApiRequest request) {
        String user = RentalsRequestParser.userId(request.pathVariable(RentalsHandler.USER));
        int limit = boundedInt("limit", request.queryParam("limit").orElse("100"), 1, MAX_LIMIT);
        return operations.history(user, limit);
    }

    Mono<ModelOperations.Quality> quality(ApiRequest request) {
        String user = RentalsRequestParser.userId(request.pathVariable(RentalsHandler.USER));
        int window = boundedInt("window", request.queryParam("window").orElse("200"), 1, MAX_WINDOW);
        return operations.quality(user, window);
    }

    /** {@code {"version": N, "reason": "…"}}: serve version N (active, or the base) again. */
    Mono<ModelOperations.RolledBack> rollBack(ApiRequest request) {
        return versionChange(request, operations::rollBack);
    }

    /** {@code {"version": N, "reason": "…"}}: serve version N, a rejected challenger. */
    Mono<ModelOperations.Promoted> promote(ApiRequest request) {
        return versionChange(request, operations::promote);
    }

    @FunctionalInterface
    private interface VersionChange<T> {
        Mono<T> apply(String userId, long version, String reason);
    }

    private <T> Mono<T> versionChange(ApiRequest request, VersionChange<T> change) {
        String user = RentalsRequestParser.userId(request.pathVariable(RentalsHandler.USER));
        return operations.ready().then(request.body()).flatMap(body -> {
            JsonNode node = RequestBodies.jsonObject(json, body);
            JsonNode version = node.get("version");
            if (version == null || !version.isIntegralNumber() || !version.canConvertToLong() || version.asLong() < 1) {
                throw ApiException.invalidField("version", "is required and must be a positive integer");
            }
            JsonNode reason = node.get("reason");
            if (reason != null && !reason.isNull() && (!reason.isString() || reason.stringValue().length() > MAX_REASON)) {
                throw ApiException.invalidField("reason", "must be a string of at most " + MAX_REASON + " characters");
            }
            return change.apply(user, version.asLong(), reason == null || reason.isNull() ? null : reason.stringValue());
        });
    }

    private static int boundedInt(String name, String value, int min, int max) {
        try {
            int n = Integer.parseInt(value);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // answered below
        }
        throw ApiException.invalidField(name, "must be an integer from " + min + " to " + max);
    }
}
