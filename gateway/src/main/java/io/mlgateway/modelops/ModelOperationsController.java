package io.mlgateway.modelops;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.mlgateway.api.ApiException;
import io.mlgateway.api.RequestBodies;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.rentals.RentalsReadiness;
import io.mlgateway.rentals.RentalsRequestParser;
import java.time.OffsetDateTime;
import java.util.List;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpRequest;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * HTTP for {@link ModelOperations}: a user's version history and live quality (client key), rollback (admin key,
 * under {@link io.mlgateway.api.ApiProperties#ADMIN_PREFIX}).
 */
@RestController
public class ModelOperationsController {

    static final int MAX_WINDOW = 10_000;
    static final int MAX_REASON = 500;

    private final ModelOperations operations;
    private final RentalsReadiness readiness;
    private final RequestBodies bodies;
    private final JsonMapper json;

    public ModelOperationsController(ModelOperations operations, RentalsReadiness readiness, RequestBodies bodies,
            JsonMapper json) {
        this.operations = operations;
        this.readiness = readiness;
        this.bodies = bodies;
        this.json = json;
    }

    @GetMapping(path = "/v1/rentals/{userId}/models", produces = MediaType.APPLICATION_JSON_VALUE)
    public Mono<History> history(@PathVariable String userId,
            @RequestParam(name = "limit", defaultValue = "100") String limit) {
        String user = RentalsRequestParser.userId(userId);
        int max = boundedInt("limit", limit, 1, 1000);
        return readiness.requireReady().then(operations.history(user, max))
                .map(versions -> new History(user, versions.stream().map(v -> VersionInfo.of(v, json)).toList()));
    }

    @GetMapping(path = "/v1/rentals/{userId}/quality", produces = MediaType.APPLICATION_JSON_VALUE)
    public Mono<ModelOperations.Quality> quality(@PathVariable String userId,
            @RequestParam(name = "window", defaultValue = "200") String window) {
        String user = RentalsRequestParser.userId(userId);
        int actuals = boundedInt("window", window, 1, MAX_WINDOW);
        return readiness.requireReady().then(operations.quality(user, actuals));
    }

    @PostMapping(path = "/v1/admin/rentals/{userId}/rollback", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = MediaType.APPLICATION_JSON_VALUE)
    public Mono<RolledBack> rollBack(@PathVariable String userId, ServerHttpRequest request) {
        String user = RentalsRequestParser.userId(userId);
        return readiness.requireReady().then(bodies.read(request)).flatMap(body -> {
            JsonNode node = readObject(body);
            JsonNode version = node.get("version");
            if (version == null || !version.isIntegralNumber() || !version.canConvertToLong() || version.asLong() < 1) {
                throw ApiException.invalidField("version", "is required and must be a positive integer");
            }
            JsonNode reason = node.get("reason");
            if (reason != null && !reason.isNull() && (!reason.isString() || reason.stringValue().length() > MAX_REASON)) {
                throw ApiException.invalidField("reason", "must be a string of at most " + MAX_REASON + " characters");
            }
            long target = version.asLong();
            String why = reason == null || reason.isNull() ? "rolled back to version " + target
                    : "rolled back to version " + target + ": " + reason.stringValue();
            return operations.rollBack(user, target, why)
                    .map(stored -> new RolledBack(user, stored.version(), target, "rolled_back", why));
        });
    }

    private JsonNode readObject(byte[] body) {
        return RequestBodies.jsonObject(json, body);
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

    public record History(@JsonProperty("user_id") String userId, List<VersionInfo> versions) {
    }

    public record VersionInfo(long version, @JsonProperty("parent_version") Long parentVersion, String status,
            boolean current, int trees, @JsonProperty("own_trees") int ownTrees,
            @JsonProperty("base_version") Long baseVersion, @JsonProperty("created_at") OffsetDateTime createdAt,
            JsonNode metrics) {

        static VersionInfo of(ModelOperations.Version v, JsonMapper json) {
            ModelRecord r = v.record();
            return new VersionInfo(r.version(), r.parentVersion(), r.status(), v.current(), r.numTrees(), r.ownTrees(),
                    r.baseVersion(), r.createdAt(), json.readTree(r.metrics()));
        }
    }

    public record RolledBack(@JsonProperty("user_id") String userId, long version,
            @JsonProperty("restored_version") long restoredVersion, String status, String reason) {
    }
}
