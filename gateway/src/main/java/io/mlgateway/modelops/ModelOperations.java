package io.mlgateway.modelops;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.mlgateway.errors.ApiException;
import io.mlgateway.errors.UnavailableException;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.modelstore.StaleModelException;
import io.mlgateway.shared.modelstore.NewModel;
import io.mlgateway.shared.notify.ModelRetrainedMessage;
import io.mlgateway.shared.notify.RetrainOutbox;
import io.mlgateway.shared.trees.TreeEnsemble;
import io.mlgateway.shared.trees.TreeModel;
import io.mlgateway.modelstore.ModelSwapper;
import io.mlgateway.rentals.RentalsReadiness;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import org.springframework.http.HttpStatus;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.springframework.stereotype.Service;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What can be asked and done about a user's models beyond scoring: their version history, their live error on
 * the actuals that came back, rolling back to an earlier version and promoting a challenger the validation
 * rejected.
 */
@Service
public class ModelOperations {

    /** One model version of the user's history. */
    public record Version(ModelRecord record, boolean current) {
    }

    /** Live error of the predictions one version served, over the user's latest actuals. */
    public record VersionQuality(long version, long actuals, double mae) {
    }

    /** A user's live error over its latest {@code window} actuals, overall and per model version that served them. */
    public record Quality(@JsonProperty("user_id") String userId, int window, long actuals, Double mae,
            @JsonProperty("by_version") List<VersionQuality> byVersion) {
    }

    /** A user's versions, newest first. */
    public record History(@JsonProperty("user_id") String userId, List<VersionInfo> versions) {
    }

    public record VersionInfo(long version, @JsonProperty("parent_version") Long parentVersion, String status,
            boolean current, int trees, @JsonProperty("own_trees") int ownTrees,
            @JsonProperty("base_version") Long baseVersion, @JsonProperty("created_at") OffsetDateTime createdAt,
            JsonNode metrics) {

        static VersionInfo of(Version v, JsonMapper json) {
            ModelRecord r = v.record();
            return new VersionInfo(r.version(), r.parentVersion(), r.status(), v.current(), r.numTrees(), r.ownTrees(),
                    r.baseVersion(), r.createdAt(), json.readTree(r.metrics()));
        }
    }

    /** A rollback done: the new version serving the user, and the one it copies. */
    public record RolledBack(@JsonProperty("user_id") String userId, long version,
            @JsonProperty("restored_version") long restoredVersion, String status, String reason) {
    }

    /** A promotion done: the new version serving the user, and the rejected challenger it copies. */
    public record Promoted(@JsonProperty("user_id") String userId, long version,
            @JsonProperty("promoted_version") long promotedVersion, String status, String reason) {
    }

    /**
     * The two ways an operator puts a stored version in service: each copies it as the user's new head and announces
     * it with its own status, records what it copied under its own key, and counts the swap under its own trigger.
     */
    private enum Change {
        ROLLBACK(ModelRetrainedMessage.ROLLED_BACK, "rolled_back_to", "rollback", "rolled back to version ",
                " to roll back to"),
        PROMOTION(ModelRetrainedMessage.PROMOTED, "promoted_from", "promotion", "promoted rejected version ",
                " (a rejected challenger) to promote");

        final String status;
        final String metricsKey;
        final String trigger;
        final String reasonPrefix;
        final String missing;

        Change(String status, String metricsKey, String trigger, String reasonPrefix, String missing) {
            this.status = status;
            this.metricsKey = metricsKey;
            this.trigger = trigger;
            this.reasonPrefix = reasonPrefix;
            this.missing = missing;
        }

        String reason(long version, String note) {
            return note == null ? reasonPrefix + version : reasonPrefix + version + ": " + note;
        }
    }

    private record VersionError(long version, long actuals, double absError) {
    }

    private final ModelRegistry registry;
    private final RetrainOutbox outbox;
    private final TransactionalOperator tx;
    private final DatabaseClient db;
    private final ModelSwapper swapper;
    private final RentalsReadiness readiness;
    private final JsonMapper json;

    public ModelOperations(ModelRegistry registry, TransactionalOperator tx, DatabaseClient db,
            ModelSwapper swapper, RentalsReadiness readiness, JsonMapper json) {
        this.registry = registry;
        // Rollbacks and promotions queue their announcement in the transaction that moves the head; the retrainer
        // relays it.
        this.outbox = new RetrainOutbox(db);
        this.tx = tx;
        this.db = db;
        this.swapper = swapper;
        this.readiness = readiness;
        this.json = json;
    }

    /** Completes when the model store can be used; a 503 until then. */
    public Mono<Void> ready() {
        return readiness.requireReady();
    }

    /** The user's versions, newest first (rejected challengers included), marking the one served now. */
    public Mono<History> history(String userId, int limit) {
        return readiness.requireReady()
                .then(registry.currentMetadata(userId).map(ModelRecord::version).defaultIfEmpty(-1L))
                .flatMap(head -> registry.history(userId, limit)
                        .map(record -> new Version(record, record.version() == head))
                        .collectList())
                .onErrorMap(e -> !(e instanceof ApiException || e instanceof UnavailableException),
                        e -> new UnavailableException("model registry unreachable"))
                .map(versions -> new History(userId, versions.stream().map(v -> VersionInfo.of(v, json)).toList()));
    }

    /**
     * Serves the user {@code version} again (one of its own active versions, or the shared base), as a new version
     * copying it; every gateway switches when the announcement arrives, this one at once.
     */
    public Mono<RolledBack> rollBack(String userId, long version, String note) {
        String reason = Change.ROLLBACK.reason(version, note);
        return serveCopy(Change.ROLLBACK, userId, version, reason, registry.restorable(userId, version))
                .map(stored -> new RolledBack(userId, stored.version(), version, Change.ROLLBACK.status, reason));
    }

    /**
     * Serves the user a challenger the validation rejected ({@code version}, one of its own), as a new version
     * copying it: an operator's decision against the automatic policy, announced like a rollback.
     */
    public Mono<Promoted> promote(String userId, long version, String note) {
        String reason = Change.PROMOTION.reason(version, note);
        return serveCopy(Change.PROMOTION, userId, version, reason, registry.promotable(userId, version))
                .map(stored -> new Promoted(userId, stored.version(), version, Change.PROMOTION.status, reason));
    }

    private Mono<ModelRecord> serveCopy(Change change, String userId, long version, String reason,
            Mono<ModelRecord> source) {
        return registry.currentMetadata(userId).map(Optional::of).defaultIfEmpty(Optional.empty())
                .flatMap(head -> storeCopy(change, userId, head.map(ModelRecord::version).orElse(null), version,
                        reason, source))
                .switchIfEmpty(Mono.error(() -> new ApiException(HttpStatus.NOT_FOUND,
                        "user '" + userId + "' has no version " + version + change.missing, "version")))
                .onErrorMap(StaleModelException.class, e -> new ApiException(HttpStatus.CONFLICT,
                        "the user's model changed meanwhile; list the versions and retry", "version"))
                .onErrorMap(e -> !(e instanceof ApiException), e -> new UnavailableException("model registry unreachable"))
                .doOnNext(stored -> swapper.swap(userId, stored.version(), change.trigger));
    }

    /**
     * A copy of {@code source} stored as a new version whose parent is the head it replaces; the head moves to it
     * only if it is still {@code expectedHead}, and the announcement is queued, atomically. A new version rather
     * than moving the head back keeps versions increasing, which every gateway's swap relies on (a newer version
     * always wins). Empty if {@code source} is; {@link StaleModelException} if the head moved meanwhile.
     */
    private Mono<ModelRecord> storeCopy(Change change, String userId, Long expectedHead, long version, String reason,
            Mono<ModelRecord> source) {
        return source
                .flatMap(old -> {
                    String metrics = "{\"" + change.metricsKey + "\": " + version + "}";
                    NewModel copy = old.isBase()
                            ? NewModel.of(userId, expectedHead, TreeModel.layered(old.version(),
                                    TreeEnsemble.empty(old.model().trees().features())), old.numTrees(), metrics)
                            : new NewModel(userId, expectedHead, old.format(), old.bytes(), old.numTrees(),
                                    old.baseVersion(), old.ownTrees(), metrics);
                    return registry.store(copy, expectedHead);
                })
                .flatMap(record -> outbox.enqueue(userId, change.status, record.version(), reason).thenReturn(record))
                .as(tx::transactional);
    }

    /** MAE of the predictions served to the user, over its latest {@code window} actuals, by model version. */
    public Mono<Quality> quality(String userId, int window) {
        return readiness.requireReady().then(db.sql("SELECT p.model_version, count(*) AS n, sum(abs(p.prediction - a.actual_value)) AS abs_error"
                        + " FROM (SELECT request_id, actual_value FROM actual_rentals WHERE user_id = $1"
                        + " ORDER BY id DESC LIMIT $2) a JOIN rental_predictions p ON p.request_id = a.request_id"
                        + " GROUP BY p.model_version ORDER BY p.model_version")
                .bind(0, userId)
                .bind(1, window)
                .map(row -> new VersionError(row.get("model_version", Long.class), row.get("n", Long.class),
                        row.get("abs_error", Double.class)))
                .all()
                .collectList()
                .map(rows -> {
                    long n = rows.stream().mapToLong(VersionError::actuals).sum();
                    double sum = rows.stream().mapToDouble(VersionError::absError).sum();
                    List<VersionQuality> byVersion = rows.stream()
                            .map(r -> new VersionQuality(r.version(), r.actuals(), r.absError() / r.actuals())).toList();
                    return new Quality(userId, window, n, n == 0 ? null : sum / n, byVersion);
                }))
                .onErrorMap(e -> !(e instanceof ApiException || e instanceof UnavailableException),
                        e -> new UnavailableException("inference log unreachable"));
    }
}
