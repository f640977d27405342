package io.mlgateway.loadtests.inferencelog;

import io.mlgateway.inferencelog.RequestIds;
import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.inferencelog.PredictionRecord;
import io.mlgateway.shared.inferencelog.PredictionTable;
import io.mlgateway.shared.storage.Connections;
import io.mlgateway.shared.storage.DatabaseProperties;
import io.r2dbc.pool.ConnectionPool;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.LongAdder;
import org.flywaydb.core.Flyway;
import org.springframework.r2dbc.core.DatabaseClient;

/**
 * The inference log's write ceiling on this machine: rows/s that {@code writers} concurrent writers reach with the
 * gateway's own batch INSERT ({@link PredictionTable}, batches of {@code batch} rows, UUIDv7 ids made now), into the
 * log as migration V4 left it (one table) and as V5 makes it (day partitions), alternating per round in one run.
 * Each round writes into a fresh schema, so every round starts from an empty log.
 *
 * <p>{@code java -cp … io.mlgateway.loadtests.inferencelog.WriteCeiling HOST:PORT/DB USER PASSWORD [seconds=20]
 * [writers=4] [batch=1000] [rounds=3]}; load-tests/bench/inference-log-ceiling.sh runs it against the local services.
 */
public final class WriteCeiling {

    private WriteCeiling() {
    }

    public static void main(String[] args) throws Exception {
        String target = args[0];
        String user = args[1];
        String password = args[2];
        int seconds = args.length > 3 ? Integer.parseInt(args[3]) : 20;
        int writers = args.length > 4 ? Integer.parseInt(args[4]) : 4;
        int batch = args.length > 5 ? Integer.parseInt(args[5]) : 1000;
        int rounds = args.length > 6 ? Integer.parseInt(args[6]) : 3;
        StringBuilder table = new StringBuilder(String.format(Locale.ROOT,
                "%d s per cell, %d writers, batches of %d rows%n%n| round | layout | rows/s | rows written |%n"
                        + "| --- | --- | --- | --- |%n", seconds, writers, batch));
        for (int round = 1; round <= rounds; round++) {
            List<String> order = round % 2 == 1 ? List.of("4", "5") : List.of("5", "4");
            for (String version : order) {
                long[] result = run(target, user, password, version, seconds, writers, batch);
                table.append(String.format(Locale.ROOT, "| %d | %s | %,.0f | %,d |%n", round,
                        version.equals("4") ? "one table (V4)" : "day partitions (V5)",
                        result[0] / (double) seconds, result[0]));
            }
        }
        System.out.print(table);
    }

    private static long[] run(String target, String user, String password, String version, int seconds,
            int writers, int batch) throws Exception {
        String schema = "ceiling_" + Long.toHexString(System.nanoTime());
        String jdbc = "jdbc:postgresql://" + target;
        try (Connection c = DriverManager.getConnection(jdbc, user, password)) {
            c.createStatement().execute("CREATE SCHEMA " + schema);
        }
        Flyway.configure().dataSource(jdbc + "?currentSchema=" + schema, user, password)
                .locations("classpath:db/migration").target(version).outputQueryResults(false).load().migrate();
        ConnectionPool pool = Connections.connectionPool(new DatabaseProperties("r2dbc:postgresql://" + target
                + "?schema=" + schema, user, password, new DatabaseProperties.Pool(writers, 0,
                Duration.ofSeconds(10))), "ceiling");
        PredictionTable table = new PredictionTable(DatabaseClient.create(pool));
        LongAdder rows = new LongAdder();
        ExecutorService threads = Executors.newFixedThreadPool(writers);
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
            List<Future<?>> running = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                running.add(threads.submit(() -> {
                    while (System.nanoTime() < deadline) {
                        rows.add(table.insert(records(batch)).block(Duration.ofMinutes(1)));
                    }
                    return null;
                }));
            }
            for (Future<?> f : running) {
                f.get();
            }
        } finally {
            threads.shutdown();
            pool.dispose();
            try (Connection c = DriverManager.getConnection(jdbc, user, password)) {
                c.createStatement().execute("DROP SCHEMA " + schema + " CASCADE");
            } catch (SQLException e) {
                System.err.println("could not drop " + schema + ": " + e.getMessage());
            }
        }
        return new long[] {rows.sum()};
    }

    private static List<PredictionRecord> records(int count) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        List<PredictionRecord> records = new ArrayList<>(count);
        Instant now = Instant.now();
        for (int i = 0; i < count; i++) {
            float[] features = new float[RentalFeatures.COUNT];
            for (int f = 0; f < features.length; f++) {
                features[f] = random.nextFloat() * 40;
            }
            records.add(new PredictionRecord(RequestIds.next(), "user-" + random.nextInt(10_000), 1, features,
                    random.nextDouble() * 500, now));
        }
        return records;
    }
}
