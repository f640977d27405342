package io.mlgateway.retrain;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.mlgateway.shared.actuals.ActualsTable;
import io.mlgateway.shared.inferencelog.PredictionRecord;
import io.mlgateway.shared.inferencelog.PredictionTable;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.modelstore.NewModel;
import io.mlgateway.shared.notify.ModelRetrainedMessage;
import io.mlgateway.shared.storage.Connections;
import io.mlgateway.shared.storage.DatabaseProperties;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.shared.training.BoosterTrainer;
import io.mlgateway.shared.training.TrainingSet;
import io.r2dbc.pool.ConnectionPool;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.LoggerFactory;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Shared set-up for the retrainer's correctness tests: a migrated schema with the base model, logged predictions
 * and their actuals written the way the gateway writes them, one hand-wired "retrainer instance" (its own
 * connection pool, registry and store) per {@link Instance}, and SQL probes of what the retrainer left behind.
 */
final class RetrainFixtures {

    static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** 2012 hours: the base model never saw them, so a fit on them has something to learn. */
    private static final List<BikeSharingData.Hour> HOURS_2012 = BikeSharingData.where(h -> !h.isYear2011());
    private static final AtomicInteger NEXT_HOUR = new AtomicInteger(1000);
    private static NewModel base;

    static {
        // No logback configuration on the test class path: its default is DEBUG for everything (Kafka, Netty,
        // R2DBC). A Spring context, when one starts, replaces this with the app's own configuration.
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).setLevel(Level.INFO);
        ((Logger) LoggerFactory.getLogger("org.apache.kafka")).setLevel(Level.WARN);
    }

    private RetrainFixtures() {
    }

    /** The base model as {@code BaseModelBootstrap} trains it (2011 rows, 200 rounds), trained once per JVM. */
    static synchronized NewModel baseModel() {
        if (base == null) {
            TrainingSet year2011 = TrainingSet.of(BikeSharingData.where(BikeSharingData.Hour::isYear2011));
            base = NewModel.of(ModelRegistry.BASE_USER, null,
                    BoosterTrainer.fitStandalone(year2011, BoosterTrainer.BASE_ROUNDS), 0, "{\"rounds\": 200}");
        }
        return base;
    }

    static ModelRecord baseRecord() {
        return record(1, null, baseModel());
    }

    /** {@code model} as the registry would return it once stored as {@code version}. */
    static ModelRecord record(long version, Long parentVersion, NewModel model) {
        return new ModelRecord(version, model.userId(), parentVersion, model.format(), model.bytes(), model.numTrees(),
                model.baseVersion(), model.ownTrees(), model.metrics(), "active", OffsetDateTime.now());
    }

    /** A fresh migrated schema whose registry holds the base model (as the gateway leaves it at start-up). */
    static LocalServices.TestDatabase databaseWithBaseModel() {
        LocalServices.TestDatabase db = LocalServices.freshDatabase();
        try (Instance setup = new Instance(db, "setup")) {
            setup.registry.store(baseModel(), null).block(TIMEOUT);
        }
        return db;
    }

    static String newUser(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /** A logged prediction and the ground truth that will come for it. */
    record Logged(UUID requestId, String userId, float[] features, float actual) {
    }

    /** Retrainer settings as in application.yml, overridable one by one. */
    static final class Props {
        int threshold = 50;
        int maxSamples = 5000;
        int concurrency = 1;
        Duration sweepInterval = Duration.ofSeconds(30);
        UpdatePolicy policy = UpdatePolicy.RESIDUAL;
        int ownTrees = 50;
        int treeDepth = 6;
        double learningRate = 0.1;
        int window = 4000;
        int roundsPerUpdate = 10;
        int maxTrees = 400;
        double holdoutFraction = 0.2;
        // Generous: these tests are about bookkeeping, not model quality (validation has its own test).
        double maxMaeRatio = 1000;
        Duration failureCoolDown = Duration.ofMinutes(5);
        Duration outboxInterval = Duration.ofSeconds(2);
        RetrainProperties.Drift drift = new RetrainProperties.Drift(0.2, Duration.ofMinutes(5), Duration.ofHours(1),
                500, 100, 10);

        Props drift(RetrainProperties.Drift value) {
            drift = value;
            return this;
        }

        Props policy(UpdatePolicy value) {
            policy = value;
            return this;
        }

        Props ownTrees(int value) {
            ownTrees = value;
            return this;
        }

        Props window(int value) {
            window = value;
            return this;
        }

        Props maxTrees(int value) {
            maxTrees = value;
            return this;
        }

        Props maxSamples(int value) {
            maxSamples = value;
            return this;
        }

        Props maxMaeRatio(double value) {
            maxMaeRatio = value;
            return this;
        }

        Props failureCoolDown(Duration value) {
            failureCoolDown = value;
            return this;
        }

        Props outboxInterval(Duration value) {
            outboxInterval = value;
            return this;
        }

        Props sweepInterval(Duration value) {
            sweepInterval = value;
            return this;
        }

        Props concurrency(int value) {
            concurrency = value;
            return this;
        }

        RetrainProperties build() {
            return new RetrainProperties(threshold, maxSamples, concurrency, sweepInterval, policy, ownTrees, treeDepth,
                    learningRate, window, roundsPerUpdate, maxTrees, holdoutFraction, maxMaeRatio, 0.1,
                    failureCoolDown, outboxInterval, drift);
        }
    }

    static Props props() {
        return new Props();
    }

    /**
     * A store whose user lock is lost, as when the lock's session dies in the middle of a run while the run goes on
     * over other connections: then two instances can work on one user at once, and the compare-and-set on the head
     * and the exactly-once marking of actuals must still let only one of them store.
     */
    static class LockLost extends RetrainStore {

        LockLost(DatabaseClient db, TransactionalOperator tx, ModelRegistry registry) {
            super(db, tx, registry);
        }

        @Override
        public <T> Mono<T> exclusively(String userId, Mono<T> work, T busy) {
            return work;
        }
    }

    /** One retrainer's database side, wired as RetrainerConfiguration wires it, over its own connection pool. */
    static class Instance implements AutoCloseable {

        final ConnectionPool pool;
        final DatabaseClient db;
        final TransactionalOperator tx;
        final ModelRegistry registry;
        final RetrainStore store;
        final SimpleMeterRegistry meters = new SimpleMeterRegistry();
        final RetrainEvents events = new RetrainEvents(meters);

        Instance(LocalServices.TestDatabase database, String name) {
            this(database.r2dbcUrl(), database, name);
        }

        /** Over another URL to the same database (e.g. through a {@code TcpProxy}). */
        Instance(String r2dbcUrl, LocalServices.TestDatabase database, String name) {
            this.pool = Connections.connectionPool(new DatabaseProperties(r2dbcUrl, database.user(),
                    database.password(), DatabaseProperties.Pool.defaults()), name);
            this.db = DatabaseClient.create(pool);
            this.tx = TransactionalOperator.create(new R2dbcTransactionManager(pool));
            this.registry = registry(db, tx);
            this.store = store(db, tx, registry);
        }

        /** Hooks for subclasses of the registry and store (fault injection, interleavings). */
        ModelRegistry registry(DatabaseClient db, TransactionalOperator tx) {
            return new ModelRegistry(db, tx);
        }

        RetrainStore store(DatabaseClient db, TransactionalOperator tx, ModelRegistry registry) {
            return holdsUserLocks() ? new RetrainStore(db, tx, registry) : new LockLost(db, tx, registry);
        }

        /** False: this instance runs as if its user locks were lost (see {@link LockLost}). */
        boolean holdsUserLocks() {
            return true;
        }

        /** A pipeline whose relay is never started (announcements stay in the outbox). */
        RetrainPipeline pipeline(RetrainProperties properties) {
            return pipeline(properties, new ModelFitter(properties));
        }

        RetrainPipeline pipeline(RetrainProperties properties, ModelFitter fitter) {
            return pipeline(properties, fitter, new OutboxRelay(store, null, null, events, properties));
        }

        RetrainPipeline pipeline(RetrainProperties properties, ModelFitter fitter, OutboxRelay relay) {
            return new RetrainPipeline(store, registry, fitter, relay, events, properties, Schedulers.boundedElastic());
        }

        double counter(String name) {
            Counter counter = meters.find(name).counter();
            return counter == null ? 0 : counter.count();
        }

        double counter(String name, String tag, String value) {
            Counter counter = meters.find(name).tag(tag, value).counter();
            return counter == null ? 0 : counter.count();
        }

        @Override
        public void close() {
            pool.dispose();
        }
    }

    /** Logs {@code n} predictions for {@code user} (committed), as the gateway's inference log does. */
    static List<Logged> logPredictions(LocalServices.TestDatabase database, String user, int n) {
        int from = NEXT_HOUR.getAndAdd(n) % (HOURS_2012.size() - n);
        return logPredictions(database, user, HOURS_2012.subList(from, from + n));
    }

    /** Logs one prediction for {@code user} per hour given (committed), as the gateway's inference log does. */
    static List<Logged> logPredictions(LocalServices.TestDatabase database, String user,
            List<BikeSharingData.Hour> hours) {
        List<Logged> logged = new ArrayList<>();
        List<PredictionRecord> records = new ArrayList<>();
        for (BikeSharingData.Hour hour : hours) {
            UUID id = UUID.randomUUID();
            logged.add(new Logged(id, user, hour.features(), hour.count()));
            records.add(new PredictionRecord(id, user, 1, hour.features(), 100.0, Instant.now()));
        }
        try (Instance writer = new Instance(database, "gateway-log")) {
            new PredictionTable(writer.db).insert(records).block(TIMEOUT);
        }
        return logged;
    }

    /** Stores the actuals of {@code logged}, as the gateway's POST /v1/rentals/actuals does (one statement). */
    static void storeActuals(LocalServices.TestDatabase database, List<Logged> logged) {
        try (Instance writer = new Instance(database, "gateway-actuals")) {
            Map<UUID, ActualsTable.Outcome> outcomes = new ActualsTable(writer.db).store(logged.stream()
                    .map(l -> new ActualsTable.Actual(l.requestId(), l.actual(), OffsetDateTime.now())).toList())
                    .block(TIMEOUT);
            if (outcomes.values().stream().anyMatch(o -> o != ActualsTable.Outcome.STORED)) {
                throw new AssertionError("actuals not stored: " + outcomes);
            }
        }
    }

    /** Logs {@code n} predictions for {@code user} and stores their actuals. */
    static List<Logged> actuals(LocalServices.TestDatabase database, String user, int n) {
        List<Logged> logged = logPredictions(database, user, n);
        storeActuals(database, logged);
        return logged;
    }

    /** The real fitter, counting its calls and running a hook first (to block, fail or interleave). */
    static class TestFitter extends ModelFitter {

        final AtomicInteger calls = new AtomicInteger();
        final List<Integer> recentUsedSizes = new CopyOnWriteArrayList<>();
        private final Runnable before;

        TestFitter(RetrainProperties properties, Runnable before) {
            super(properties);
            this.before = before;
        }

        TestFitter(RetrainProperties properties) {
            this(properties, () -> { });
        }

        @Override
        public Candidate fit(Current current, List<Sample> fresh,
                List<Sample> recentUsed) {
            calls.incrementAndGet();
            recentUsedSizes.add(recentUsed.size());
            before.run();
            return super.fit(current, fresh, recentUsed);
        }
    }

    // --- SQL probes -------------------------------------------------------------------------------------------

    static long newActuals(LocalServices.TestDatabase db, String user) {
        return db.count("SELECT count(*) FROM actual_rentals WHERE user_id = '" + user + "' AND used_in_version IS NULL");
    }

    /** used_in_version of each of the user's actuals, by request id (null = new). */
    static Map<UUID, Long> usage(LocalServices.TestDatabase db, String user) {
        Map<UUID, Long> usage = new HashMap<>();
        query(db, "SELECT request_id, used_in_version FROM actual_rentals WHERE user_id = '" + user + "'", rs -> {
            long v = rs.getLong(2);
            Long version = rs.wasNull() ? null : v;
            usage.put(UUID.fromString(rs.getString(1)), version);
        });
        return usage;
    }

    /** The user's own stored versions, oldest first. */
    static List<Long> versions(LocalServices.TestDatabase db, String user) {
        List<Long> versions = new ArrayList<>();
        query(db, "SELECT version FROM rental_models WHERE user_id = '" + user + "' ORDER BY version",
                rs -> versions.add(rs.getLong(1)));
        return versions;
    }

    /** The user's outbox rows, oldest first, as messages; {@code published} tells which were sent. */
    record OutboxRow(long id, ModelRetrainedMessage message, boolean published) {
    }

    static List<OutboxRow> outbox(LocalServices.TestDatabase db, String user) {
        List<OutboxRow> rows = new ArrayList<>();
        query(db, "SELECT id, status, version, reason, published_at IS NOT NULL FROM retrain_outbox WHERE user_id = '"
                + user + "' ORDER BY id", rs -> {
                    long v = rs.getLong(3);
                    Long version = rs.wasNull() ? null : v;
                    rows.add(new OutboxRow(rs.getLong(1),
                            new ModelRetrainedMessage(user, rs.getString(2), version, rs.getString(4)), rs.getBoolean(5)));
                });
        return rows;
    }

    interface RowHandler {
        void row(ResultSet rs) throws SQLException;
    }

    static void query(LocalServices.TestDatabase db, String sql, RowHandler handler) {
        try (Connection c = db.jdbc(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                handler.row(rs);
            }
        } catch (SQLException e) {
            throw new AssertionError(sql, e);
        }
    }

    static void execute(LocalServices.TestDatabase db, String sql) {
        try (Connection c = db.jdbc(); Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new AssertionError(sql, e);
        }
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    /** Reads {@value ModelRetrainedMessage#TOPIC} from now on, keeping the messages of the given user. */
    static final class TopicReader implements AutoCloseable {

        private final KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, LocalServices.kafkaBootstrap(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class));
        private final List<ModelRetrainedMessage> seen = new ArrayList<>();
        private final String user;

        TopicReader(String user) {
            this.user = user;
            // Every partition from its current end: only messages sent from now on are read.
            List<TopicPartition> partitions = consumer.partitionsFor(ModelRetrainedMessage.TOPIC,
                    Duration.ofSeconds(30)).stream()
                    .map(info -> new TopicPartition(info.topic(), info.partition())).toList();
            if (partitions.isEmpty()) {
                throw new AssertionError("no partitions for " + ModelRetrainedMessage.TOPIC);
            }
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(consumer::position);
        }

        /** Polls until {@code count} messages of the user were seen (or the timeout), then returns all seen. */
        List<ModelRetrainedMessage> await(int count, Duration timeout) {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (seen.size() < count && System.nanoTime() < deadline) {
                poll();
            }
            return List.copyOf(seen);
        }

        /** Polls for {@code duration} and returns everything of the user seen so far. */
        List<ModelRetrainedMessage> drainFor(Duration duration) {
            long deadline = System.nanoTime() + duration.toNanos();
            while (System.nanoTime() < deadline) {
                poll();
            }
            return List.copyOf(seen);
        }

        private void poll() {
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                if (user.equals(r.key())) {
                    seen.add(ModelRetrainedMessage.fromJson(r.value()));
                }
            }
        }

        @Override
        public void close() {
            consumer.close();
        }
    }
}
