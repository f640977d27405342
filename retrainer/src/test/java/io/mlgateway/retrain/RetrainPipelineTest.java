package io.mlgateway.retrain;

import static io.mlgateway.retrain.RetrainFixtures.TIMEOUT;
import static io.mlgateway.retrain.RetrainFixtures.actuals;
import static io.mlgateway.retrain.RetrainFixtures.await;
import static io.mlgateway.retrain.RetrainFixtures.databaseWithBaseModel;
import static io.mlgateway.retrain.RetrainFixtures.execute;
import static io.mlgateway.retrain.RetrainFixtures.logPredictions;
import static io.mlgateway.retrain.RetrainFixtures.newActuals;
import static io.mlgateway.retrain.RetrainFixtures.newUser;
import static io.mlgateway.retrain.RetrainFixtures.outbox;
import static io.mlgateway.retrain.RetrainFixtures.props;
import static io.mlgateway.retrain.RetrainFixtures.storeActuals;
import static io.mlgateway.retrain.RetrainFixtures.usage;
import static io.mlgateway.retrain.RetrainFixtures.versions;
import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.notify.ModelRetrainedMessage;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.TcpProxy;
import io.mlgateway.retrain.RetrainFixtures.Instance;
import io.mlgateway.retrain.RetrainFixtures.Logged;
import io.mlgateway.retrain.RetrainFixtures.OutboxRow;
import io.mlgateway.retrain.RetrainFixtures.TestFitter;
import io.mlgateway.retrain.RetrainPipeline.Outcome;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

/**
 * One user's retrain on the real PostgreSQL, hand-wired (no Spring): which actuals a version consumes, what a
 * failure at each step leaves behind, and what two retrainers racing on one user store. Announcements stay in
 * the outbox here (no relay runs); {@link OutboxRelayTest} sends them.
 */
class RetrainPipelineTest {

    private static LocalServices.TestDatabase db;
    private static Instance retrainer;
    private static long baseVersion;
    private CapturedEvents events;

    @BeforeAll
    static void database() {
        db = databaseWithBaseModel();
        retrainer = new Instance(db, "retrainer");
        baseVersion = retrainer.registry.current(ModelRegistry.BASE_USER).block(TIMEOUT).version();
    }

    @AfterAll
    static void close() {
        retrainer.close();
    }

    @BeforeEach
    void capture() {
        events = CapturedEvents.attach();
    }

    @AfterEach
    void release() {
        events.detach();
    }

    private static Outcome run(RetrainPipeline pipeline, String user) {
        return pipeline.run(user).block(TIMEOUT);
    }

    private static long head(String user) {
        return retrainer.registry.current(user).block(TIMEOUT).version();
    }

    /** Every actual of the user is used, and by the version given for it (no actual used twice: one column). */
    private static void assertUsedExactlyBy(String user, Map<UUID, Long> expected) {
        assertThat(usage(db, user)).containsExactlyInAnyOrderEntriesOf(expected);
    }

    // --- rule 6: 49 new actuals trigger nothing, 50 do ---------------------------------------------------------

    @Test
    void fortyNineNewActualsAreNotDueTheFiftiethIs() {
        String user = newUser("fifty");
        RetrainProperties p = props().build();
        TestFitter fitter = new TestFitter(p);
        RetrainPipeline pipeline = retrainer.pipeline(p, fitter);
        List<Logged> logged = logPredictions(db, user, 50);

        storeActuals(db, logged.subList(0, 49));
        StepVerifier.create(pipeline.run(user)).expectNext(Outcome.NOT_DUE).expectComplete().verify(TIMEOUT);
        assertThat(fitter.calls).hasValue(0);
        assertThat(versions(db, user)).isEmpty();
        assertThat(outbox(db, user)).isEmpty();
        assertThat(newActuals(db, user)).isEqualTo(49);

        storeActuals(db, logged.subList(49, 50));
        StepVerifier.create(pipeline.run(user)).expectNext(Outcome.RETRAINED).expectComplete().verify(TIMEOUT);
        assertThat(fitter.calls).hasValue(1);
        long v1 = head(user);
        assertThat(versions(db, user)).containsExactly(v1);
        ModelRecord stored = retrainer.registry.current(user).block(TIMEOUT);
        assertThat(stored.parentVersion()).isEqualTo(baseVersion);
        assertThat(stored.numTrees()).isEqualTo(250); // the base's 200 + the user's own 50 (residual policy)
        assertThat(newActuals(db, user)).isZero();
        assertThat(outbox(db, user)).extracting(OutboxRow::message)
                .containsExactly(ModelRetrainedMessage.success(user, v1));
        assertThat(events.of("retrain.check", user)).anySatisfy(e -> assertThat(e.get("count")).isEqualTo(50L));
        assertThat(events.of("retrain.store", user)).singleElement()
                .satisfies(e -> assertThat(e.get("version")).isEqualTo(v1));
    }

    // --- rule 4: model size stays bounded --------------------------------------------------------------------

    @Test
    void residualRefitsReplaceTheUsersOwnTreesAndTrainOnTheWindowOfRecentActuals() {
        String user = newUser("residual");
        RetrainProperties p = props().window(120).build();
        TestFitter fitter = new TestFitter(p);
        RetrainPipeline pipeline = retrainer.pipeline(p, fitter);
        List<ModelRecord> stored = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            actuals(db, user, 50);
            assertThat(run(pipeline, user)).isEqualTo(Outcome.RETRAINED);
            stored.add(retrainer.registry.current(user).block(TIMEOUT));
        }
        // Own trees are replaced, never accumulated: every version is the base plus exactly 50 of the user's.
        assertThat(stored).extracting(ModelRecord::ownTrees).containsExactly(50, 50, 50);
        assertThat(stored).extracting(ModelRecord::baseVersion).containsOnly(baseVersion);
        // Each fit read up to the window of already-used actuals: none, 50, then 100 (all there were).
        assertThat(fitter.recentUsedSizes).containsExactly(0, 50, 100);
        // ...and trained on the window: 40 new (10 held out), then 50 + 40, then 120 at most.
        assertThat(stored).extracting(m -> m.metrics().replaceAll(".*\"samples_used\": (\\d+).*", "$1"))
                .containsExactly("40", "90", "120");
        assertThat(newActuals(db, user)).isZero();
    }

    @Test
    void repeatedRetrainsStayWithinMaxTreesByRebuildingOnTheRecentActuals() {
        String user = newUser("capped");
        RetrainProperties p = props().policy(UpdatePolicy.CONTINUE).maxTrees(215).build();
        TestFitter fitter = new TestFitter(p);
        RetrainPipeline pipeline = retrainer.pipeline(p, fitter);
        List<ModelRecord> stored = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            actuals(db, user, 50);
            assertThat(run(pipeline, user)).isEqualTo(Outcome.RETRAINED);
            stored.add(retrainer.registry.current(user).block(TIMEOUT));
        }
        assertThat(stored).extracting(ModelRecord::numTrees).containsExactly(210, 200, 210)
                .allSatisfy(trees -> assertThat(trees).isLessThanOrEqualTo(215));
        assertThat(stored).extracting(m -> m.metrics().contains("\"rebuilt\": true")).containsExactly(false, true, false);
        // The rebuild also trained on the user's 50 already-used actuals (the recent window); continuing does not.
        assertThat(fitter.recentUsedSizes).containsExactly(0, 50, 0);
        assertThat(newActuals(db, user)).isZero();
    }

    // --- rule 1a: out-of-order commits ------------------------------------------------------------------------

    @Test
    void anActualCommittedAfterLaterOnesIsUsedByTheNextRetrainNeverSkipped() throws Exception {
        String user = newUser("late");
        RetrainPipeline pipeline = retrainer.pipeline(props().build());
        List<Logged> logged = logPredictions(db, user, 100);
        Logged late = logged.get(0);

        try (Connection a = db.jdbc()) {
            // Transaction A takes its id first, then stays open while 50 later actuals commit.
            a.setAutoCommit(false);
            try (PreparedStatement insert = a.prepareStatement("INSERT INTO actual_rentals"
                    + " (request_id, user_id, actual_value, \"timestamp\") VALUES (?::uuid, ?, ?, now())")) {
                insert.setString(1, late.requestId().toString());
                insert.setString(2, user);
                insert.setDouble(3, late.actual());
                insert.executeUpdate();
            }
            storeActuals(db, logged.subList(1, 51));

            assertThat(run(pipeline, user)).isEqualTo(Outcome.RETRAINED);
            a.commit();
        }
        long v1 = head(user);
        long lateId = db.count("SELECT id FROM actual_rentals WHERE request_id = '" + late.requestId() + "'");
        long firstOther = db.count("SELECT min(id) FROM actual_rentals WHERE user_id = '" + user + "' AND request_id <> '"
                + late.requestId() + "'");
        assertThat(lateId).as("A committed last but holds the lowest id").isLessThan(firstOther);

        Map<UUID, Long> expected = new HashMap<>();
        logged.subList(1, 51).forEach(l -> expected.put(l.requestId(), v1));
        expected.put(late.requestId(), null);
        assertUsedExactlyBy(user, expected); // A is still new, not skipped

        storeActuals(db, logged.subList(51, 100)); // 49 more: with A, 50 new
        assertThat(run(pipeline, user)).isEqualTo(Outcome.RETRAINED);
        long v2 = head(user);
        assertThat(v2).isGreaterThan(v1);
        expected.put(late.requestId(), v2);
        logged.subList(51, 100).forEach(l -> expected.put(l.requestId(), v2));
        assertUsedExactlyBy(user, expected);
        assertThat(versions(db, user)).containsExactly(v1, v2);
    }

    // --- rule 1b / 5: a failure at any step -------------------------------------------------------------------

    /**
     * Makes one statement of the store transaction fail (a trigger raising an error), as a crash or a database
     * error at that step would: nothing of the version may remain, the actuals stay new, the failure is recorded
     * with a cool-down and announced as "failed". Without the fault, the next run stores the version.
     */
    @ParameterizedTest
    @ValueSource(strings = {"rental_models", "rental_model_heads", "actual_rentals", "retrain_state", "retrain_outbox"})
    void aFailureAtAnyStepOfTheStoreLeavesNothingHalfDone(String table) {
        String user = newUser("fail-" + table.replace('_', '-'));
        List<Logged> logged = actuals(db, user, 50);
        String when = switch (table) {
            case "actual_rentals" -> "BEFORE UPDATE ON actual_rentals FOR EACH ROW WHEN (NEW.user_id = '" + user
                    + "' AND NEW.used_in_version IS NOT NULL)";
            case "retrain_state" -> "BEFORE INSERT OR UPDATE ON retrain_state FOR EACH ROW WHEN (NEW.user_id = '"
                    + user + "' AND NEW.last_version IS NOT NULL)";
            case "retrain_outbox" -> "BEFORE INSERT ON retrain_outbox FOR EACH ROW WHEN (NEW.user_id = '" + user
                    + "' AND NEW.status = 'success')";
            default -> "BEFORE INSERT OR UPDATE ON " + table + " FOR EACH ROW WHEN (NEW.user_id = '" + user + "')";
        };
        String function = "fail_" + table;
        execute(db, "CREATE OR REPLACE FUNCTION " + function + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                + " RAISE EXCEPTION 'injected failure at %', TG_TABLE_NAME; END $$");
        execute(db, "CREATE TRIGGER " + function + " " + when + " EXECUTE FUNCTION " + function + "()");
        RetrainPipeline pipeline = retrainer.pipeline(props().build());
        try {
            assertThat(run(pipeline, user)).isEqualTo(Outcome.FAILED);
        } finally {
            execute(db, "DROP TRIGGER " + function + " ON " + table);
        }

        assertThat(versions(db, user)).as("no version of the user survives").isEmpty();
        assertThat(retrainer.registry.current(user).blockOptional(TIMEOUT)).isEmpty();
        assertThat(newActuals(db, user)).as("every actual still new").isEqualTo(50);
        assertThat(outbox(db, user)).singleElement().satisfies(row -> {
            assertThat(row.message().status()).isEqualTo(ModelRetrainedMessage.FAILED);
            assertThat(row.message().version()).isNull();
            assertThat(row.message().reason()).contains("injected failure at " + table);
        });
        assertThat(db.count("SELECT failures FROM retrain_state WHERE user_id = '" + user + "'")).isEqualTo(1);
        assertThat(db.count("SELECT count(*) FROM retrain_state WHERE user_id = '" + user
                + "' AND retry_after > now() + interval '4 minutes'")).as("5 min cool-down").isEqualTo(1);
        assertThat(events.of("retrain.failed", user)).singleElement()
                .satisfies(e -> assertThat((String) e.get("reason")).contains("injected failure at " + table));

        // Cool-down over, fault gone: the same actuals train one version, each exactly once.
        execute(db, "UPDATE retrain_state SET retry_after = now() WHERE user_id = '" + user + "'");
        assertThat(run(pipeline, user)).isEqualTo(Outcome.RETRAINED);
        long v = head(user);
        Map<UUID, Long> expected = new HashMap<>();
        logged.forEach(l -> expected.put(l.requestId(), v));
        assertUsedExactlyBy(user, expected);
        assertThat(outbox(db, user)).extracting(row -> row.message().status())
                .containsExactly(ModelRetrainedMessage.FAILED, ModelRetrainedMessage.SUCCESS);
        assertThat(db.count("SELECT count(*) FROM retrain_state WHERE user_id = '" + user
                + "' AND failures = 0 AND retry_after IS NULL AND last_version = " + v)).isEqualTo(1);
    }

    @Test
    void aChallengerThatLosesIsStoredAsRejectedAnnouncedAndNeverServed() {
        String user = newUser("rejected");
        List<Logged> first = actuals(db, user, 50);
        // No fit can be 1e-9 times as good as the champion: the challenger must lose.
        RetrainPipeline strict = retrainer.pipeline(props().maxMaeRatio(1e-9).build());
        RetrainProperties lenient = props().build();
        TestFitter fitter = new TestFitter(lenient);
        RetrainPipeline next = retrainer.pipeline(lenient, fitter);

        assertThat(run(strict, user)).isEqualTo(Outcome.REJECTED);
        // Stored for the record, with both models' figures, but the user is still served the champion (the base).
        List<Long> versions = versions(db, user);
        assertThat(versions).hasSize(1);
        long rejected = versions.get(0);
        ModelRecord record = retrainer.registry.version(rejected).block(TIMEOUT);
        assertThat(record.status()).isEqualTo(ModelRegistry.REJECTED);
        assertThat(record.parentVersion()).isEqualTo(baseVersion);
        assertThat(record.metrics()).contains("\"champion_version\": " + baseVersion)
                .contains("\"holdout_mae_champion\"").contains("\"holdout_mae_challenger\"");
        assertThat(retrainer.registry.current(user).blockOptional(TIMEOUT)).isEmpty();
        // Its actuals are consumed (no retry storm on every new actual) and no cool-down is started.
        Map<UUID, Long> expected = new HashMap<>();
        first.forEach(l -> expected.put(l.requestId(), rejected));
        assertUsedExactlyBy(user, expected);
        assertThat(db.count("SELECT count(*) FROM retrain_state WHERE user_id = '" + user
                + "' AND retry_after > now()")).isZero();
        assertThat(outbox(db, user)).singleElement().satisfies(row -> {
            assertThat(row.message().status()).isEqualTo(ModelRetrainedMessage.REJECTED);
            assertThat(row.message().version()).isEqualTo(rejected);
            assertThat(row.message().reason()).startsWith("challenger's held-out MAE");
            assertThat(row.message().changesModel()).isFalse();
            assertThat(new String(row.message().toJson())).contains("\"status\":\"rejected\"").contains("\"reason\":");
        });
        assertThat(events.of("retrain.rejected", user)).singleElement()
                .satisfies(e -> assertThat(e.get("version")).isEqualTo(rejected));
        assertThat(retrainer.counter("retrainer.retrains", "status", "rejected")).isGreaterThanOrEqualTo(1);

        // The next 50 actuals are due; the new fit's window still holds the first 50 (they were not lost).
        assertThat(run(next, user)).isEqualTo(Outcome.NOT_DUE);
        actuals(db, user, 50);
        assertThat(run(next, user)).isEqualTo(Outcome.RETRAINED);
        assertThat(fitter.recentUsedSizes).containsExactly(50);
        ModelRecord served = retrainer.registry.current(user).block(TIMEOUT);
        assertThat(served.parentVersion()).isEqualTo(baseVersion);
        assertThat(served.status()).isEqualTo(ModelRegistry.ACTIVE);
    }

    @Test
    void aFitThatThrowsIsAReportedFailureNotACrash() {
        String user = newUser("throws");
        actuals(db, user, 50);
        RetrainProperties p = props().build();
        RetrainPipeline pipeline = retrainer.pipeline(p, new TestFitter(p, () -> {
            throw new IllegalStateException("XGBoost training failed: out of memory");
        }));

        StepVerifier.create(pipeline.run(user)).expectNext(Outcome.FAILED).expectComplete().verify(TIMEOUT);
        assertThat(versions(db, user)).isEmpty();
        assertThat(newActuals(db, user)).isEqualTo(50);
        assertThat(outbox(db, user)).extracting(OutboxRow::message).containsExactly(ModelRetrainedMessage.failed(user,
                "IllegalStateException: XGBoost training failed: out of memory"));
        assertThat(db.count("SELECT count(*) FROM retrain_state WHERE user_id = '" + user
                + "' AND retry_after > now()")).isEqualTo(1);
    }

    /** The database goes away while the model is being fitted (outside any transaction): nothing changes. */
    @Test
    void losingTheDatabaseDuringTheFitChangesNothingAndTheNextRunRetrains() {
        String user = newUser("db-lost");
        List<Logged> logged = actuals(db, user, 50);
        RetrainProperties p = props().build();
        try (TcpProxy proxy = TcpProxy.start(LocalServices.pgPort());
                Instance proxied = new Instance(db.r2dbcUrl().replace(":" + LocalServices.pgPort() + "/",
                        ":" + proxy.port() + "/"), db, "retrainer-proxied")) {
            assertThat(run(proxied.pipeline(p, new TestFitter(p, proxy::cut)), user)).isEqualTo(Outcome.FAILED);

            assertThat(versions(db, user)).isEmpty();
            assertThat(newActuals(db, user)).isEqualTo(50);
            // Not even the failure could be recorded: no cool-down, so the next sweep retries at once.
            assertThat(outbox(db, user)).isEmpty();
            assertThat(db.count("SELECT count(*) FROM retrain_state WHERE user_id = '" + user + "'")).isZero();

            proxy.restore();
            RetrainPipeline again = proxied.pipeline(p);
            await("a retrain once the database is back", Duration.ofSeconds(30), () -> {
                if (run(again, user) == Outcome.RETRAINED) {
                    return true;
                }
                // A pooled connection that died with the outage may fail one more attempt (and start a
                // cool-down): not what this test is about, so the cool-down is skipped.
                execute(db, "UPDATE retrain_state SET retry_after = NULL WHERE user_id = '" + user + "'");
                return false;
            });
        }
        long v = head(user);
        Map<UUID, Long> expected = new HashMap<>();
        logged.forEach(l -> expected.put(l.requestId(), v));
        assertUsedExactlyBy(user, expected);
        assertThat(versions(db, user)).containsExactly(v);
    }

    // --- rule 1c: two retrainers --------------------------------------------------------------------------------

    /**
     * Two retrainers (separate pools, registries, stores) run the same user at the same time; a barrier in the
     * fit makes sure both read the same head and the same actuals before either stores. Twice: first from the
     * base model (the head is created), then from the winner's version (the head is moved). Their user locks are
     * lost ({@link RetrainFixtures.LockLost}), which is what lets them race at all.
     */
    @Test
    void twoRetrainersRacingOnOneUserStoreExactlyOneVersionAndTheLoserReportsAConflict() {
        String user = newUser("race");
        RetrainProperties p = props().build();
        Map<UUID, Long> expected = new HashMap<>();
        try (Instance a = new Instance(db, "retrainer-a") {
                    @Override
                    boolean holdsUserLocks() {
                        return false;
                    }
                };
                Instance b = new Instance(db, "retrainer-b") {
                    @Override
                    boolean holdsUserLocks() {
                        return false;
                    }
                }) {
            for (int round = 1; round <= 2; round++) {
                List<Logged> logged = actuals(db, user, 50);
                CyclicBarrier bothRead = new CyclicBarrier(2);
                Runnable meet = () -> {
                    try {
                        bothRead.await(30, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new AssertionError("the other retrainer never reached its fit", e);
                    }
                };
                List<Outcome> outcomes = Flux.merge(a.pipeline(p, new TestFitter(p, meet)).run(user),
                        b.pipeline(p, new TestFitter(p, meet)).run(user)).collectList().block(TIMEOUT);

                assertThat(outcomes).as("round " + round).containsExactlyInAnyOrder(Outcome.RETRAINED, Outcome.CONFLICT);
                List<Long> versions = versions(db, user);
                assertThat(versions).as("one version per round, the loser's rolled back").hasSize(round);
                long winner = versions.get(round - 1);
                assertThat(head(user)).isEqualTo(winner);
                logged.forEach(l -> expected.put(l.requestId(), winner));
                assertUsedExactlyBy(user, expected);
                assertThat(outbox(db, user)).extracting(OutboxRow::message).last()
                        .isEqualTo(ModelRetrainedMessage.success(user, winner));
            }
            // A conflict is not a failure: no failed announcement, no cool-down, counted as conflicts.
            assertThat(outbox(db, user)).extracting(row -> row.message().status()).containsOnly("success").hasSize(2);
            assertThat(db.count("SELECT count(*) FROM retrain_state WHERE user_id = '" + user
                    + "' AND failures = 0 AND retry_after IS NULL")).isEqualTo(1);
            assertThat(a.counter("retrainer.retrains", "status", "conflict")
                    + b.counter("retrainer.retrains", "status", "conflict")).isEqualTo(2);
            assertThat(a.counter("retrainer.retrains", "status", "failed")
                    + b.counter("retrainer.retrains", "status", "failed")).isZero();
            assertThat(events.of("retrain.conflict", user)).hasSize(2);
            assertThat(events.of("retrain.failed", user)).isEmpty();
        }
    }

    /**
     * Retrainer A reads the user's new actuals; before it reads the head, retrainer B stores a version trained on
     * those same actuals. A then starts from B's version, so the head compare-and-set alone would let it through:
     * the exactly-once marking must stop it.
     */
    @Test
    void aRetrainerWhoseActualsAnotherConsumedMeanwhileStoresNothing() {
        String user = newUser("stale-read");
        List<Logged> logged = actuals(db, user, 50);
        RetrainProperties p = props().build();
        AtomicReference<Outcome> other = new AtomicReference<>();
        try (Instance b = new Instance(db, "retrainer-b") {
                    @Override
                    boolean holdsUserLocks() {
                        return false;
                    }
                };
                Instance a = new Instance(db, "retrainer-a") {
                    @Override
                    boolean holdsUserLocks() {
                        return false;
                    }

                    @Override
                    ModelRegistry registry(DatabaseClient client, TransactionalOperator tx) {
                        RetrainPipeline bPipeline = b.pipeline(p);
                        AtomicBoolean first = new AtomicBoolean(true);
                        return new ModelRegistry(client, tx) {
                            @Override
                            public Mono<ModelRecord> current(String userId) {
                                return userId.equals(user) && first.getAndSet(false)
                                        ? bPipeline.run(user).doOnNext(other::set).then(super.current(userId))
                                        : super.current(userId);
                            }
                        };
                    }
                }) {
            assertThat(run(a.pipeline(p), user)).isEqualTo(Outcome.CONFLICT);
            assertThat(other).hasValue(Outcome.RETRAINED);
            long v = head(user);
            assertThat(versions(db, user)).containsExactly(v);
            Map<UUID, Long> expected = new HashMap<>();
            logged.forEach(l -> expected.put(l.requestId(), v));
            assertUsedExactlyBy(user, expected);
            assertThat(outbox(db, user)).extracting(OutboxRow::message)
                    .containsExactly(ModelRetrainedMessage.success(user, v));
            assertThat(a.counter("retrainer.retrains", "status", "conflict")).isEqualTo(1);
            assertThat(a.counter("retrainer.retrains", "status", "failed")).isZero();
        }
    }

    /**
     * Retrainer A reads head v1 and the 50 oldest new actuals; meanwhile B stores v2 from v1 on the 50 newest.
     * A's version would replace a newer one: it must lose, store nothing and leave its actuals new for the
     * next run, which continues from v2.
     */
    @Test
    void aStaleWriterCannotReplaceANewerVersion() {
        String user = newUser("stale-write");
        RetrainProperties p = props().maxSamples(50).build();
        List<Logged> first = actuals(db, user, 50);
        assertThat(run(retrainer.pipeline(p), user)).isEqualTo(Outcome.RETRAINED);
        long v1 = head(user);
        List<Logged> oldest = actuals(db, user, 50);
        List<Logged> newest = actuals(db, user, 50);
        AtomicReference<Outcome> other = new AtomicReference<>();
        try (Instance b = new Instance(db, "retrainer-b") {
                    @Override
                    RetrainStore store(DatabaseClient client, TransactionalOperator tx, ModelRegistry registry) {
                        return new RetrainFixtures.LockLost(client, tx, registry) {
                            @Override
                            public Flux<Sample> readNew(String userId, int limit) {
                                return super.readNew(userId, 100).skip(50); // B trains on the newest 50
                            }
                        };
                    }
                };
                Instance a = new Instance(db, "retrainer-a") {
                    @Override
                    boolean holdsUserLocks() {
                        return false;
                    }

                    @Override
                    ModelRegistry registry(DatabaseClient client, TransactionalOperator tx) {
                        RetrainPipeline bPipeline = b.pipeline(p);
                        AtomicBoolean once = new AtomicBoolean(true);
                        return new ModelRegistry(client, tx) {
                            @Override
                            public Mono<ModelRecord> current(String userId) {
                                // A has read v1; B stores v2 before A gets to store.
                                return userId.equals(user) && once.getAndSet(false)
                                        ? super.current(userId).flatMap(head -> bPipeline.run(user)
                                                .doOnNext(other::set).thenReturn(head))
                                        : super.current(userId);
                            }
                        };
                    }
                }) {
            RetrainPipeline aPipeline = a.pipeline(p);
            assertThat(run(aPipeline, user)).isEqualTo(Outcome.CONFLICT);
            assertThat(other).hasValue(Outcome.RETRAINED);
            long v2 = head(user);
            ModelRecord newer = retrainer.registry.current(user).block(TIMEOUT);
            assertThat(newer.parentVersion()).isEqualTo(v1);
            assertThat(versions(db, user)).containsExactly(v1, v2);
            Map<UUID, Long> expected = new HashMap<>();
            first.forEach(l -> expected.put(l.requestId(), v1));
            oldest.forEach(l -> expected.put(l.requestId(), null));
            newest.forEach(l -> expected.put(l.requestId(), v2));
            assertUsedExactlyBy(user, expected);

            // A's next run starts from v2 and consumes the 50 it had left.
            assertThat(run(aPipeline, user)).isEqualTo(Outcome.RETRAINED);
            ModelRecord v3 = retrainer.registry.current(user).block(TIMEOUT);
            assertThat(v3.parentVersion()).isEqualTo(v2);
            oldest.forEach(l -> expected.put(l.requestId(), v3.version()));
            assertUsedExactlyBy(user, expected);
            assertThat(outbox(db, user)).extracting(OutboxRow::message).containsExactly(
                    ModelRetrainedMessage.success(user, v1), ModelRetrainedMessage.success(user, v2),
                    ModelRetrainedMessage.success(user, v3.version()));
        }
    }
}
