package io.mlgateway.loadtests.faults;

import io.mlgateway.shared.schema.SchemaMigrations;
import io.mlgateway.shared.testing.AppProcess;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A private PostgreSQL, Redis and Kafka for the fault suite, started by deploy/local/services.sh itself on free
 * ports with its own data dir under target/: the suite stops and starts them (one at a time, by the script's
 * per-service form) without touching the shared services on the default ports that other tests use.
 */
final class FaultServices implements AutoCloseable {

    static final String DB = "inference";
    static final String USER = "inference";
    static final String PASSWORD = "inference";

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path SCRIPT = ROOT.resolve("deploy/local/services.sh");

    final Path dataDir = Path.of("target/fault-services").toAbsolutePath();
    final Path log = Path.of("target/faults/services.log").toAbsolutePath();
    final int pgPort = AppProcess.freePort();
    final int redisPort = AppProcess.freePort();
    final int kafkaPort = AppProcess.freePort();
    final int kafkaControllerPort = AppProcess.freePort();
    final String schema = "faults";

    FaultServices() throws Exception {
        // A data dir left by an interrupted run holds services on other ports: wipe it first (its own 'down').
        run(Duration.ofMinutes(2), "wipe");
        run(Duration.ofMinutes(4), "up");
        try (Connection c = DriverManager.getConnection(jdbcBase(), USER, PASSWORD)) {
            c.createStatement().execute("CREATE SCHEMA IF NOT EXISTS " + schema);
        }
        SchemaMigrations.migrate(jdbcUrl(), USER, PASSWORD);
    }

    private String jdbcBase() {
        return "jdbc:postgresql://127.0.0.1:" + pgPort + "/" + DB;
    }

    String jdbcUrl() {
        return jdbcBase() + "?currentSchema=" + schema;
    }

    /** The environment that points an app at these services. */
    Map<String, String> appEnvironment() {
        return Map.of(
                "SPRING_R2DBC_URL", "r2dbc:postgresql://127.0.0.1:" + pgPort + "/" + DB + "?schema=" + schema,
                "SPRING_R2DBC_USERNAME", USER,
                "SPRING_R2DBC_PASSWORD", PASSWORD,
                "SPRING_DATA_REDIS_URL", "redis://127.0.0.1:" + redisPort,
                "SPRING_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:" + kafkaPort);
    }

    /** Stops one service ("postgres", "redis", "kafka"); returns once the script says it is stopped. */
    void stop(String service) throws Exception {
        run(Duration.ofMinutes(2), "down", service);
    }

    /** Starts one service again; returns once the script found it ready (its own readiness checks). */
    void start(String service) throws Exception {
        run(Duration.ofMinutes(3), "up", service);
    }

    /** A count over the schema, or -1 while the database does not answer. */
    long count(String sql) {
        try (Connection c = DriverManager.getConnection(jdbcUrl(), USER, PASSWORD);
                var rs = c.createStatement().executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            return -1;
        }
    }

    /** A Redis hash field by redis-cli, or null when absent. */
    String redisHashField(String key, String field) throws Exception {
        Process p = new ProcessBuilder("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(redisPort), "--raw",
                "HGET", key, field).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        p.waitFor(10, TimeUnit.SECONDS);
        return out.isEmpty() ? null : out;
    }

    private void run(Duration timeout, String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>(List.of(SCRIPT.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        java.nio.file.Files.createDirectories(log.getParent());
        Map<String, String> env = new HashMap<>(Map.of(
                "LOCAL_SERVICES_DIR", dataDir.toString(),
                "LOCAL_PG_PORT", Integer.toString(pgPort),
                "LOCAL_REDIS_PORT", Integer.toString(redisPort),
                "LOCAL_KAFKA_PORT", Integer.toString(kafkaPort),
                "LOCAL_KAFKA_CONTROLLER_PORT", Integer.toString(kafkaControllerPort)));
        builder.environment().putAll(env);
        Process p = builder.start();
        if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("services.sh " + String.join(" ", args) + " timed out; see " + log);
        }
        if (p.exitValue() != 0) {
            throw new AssertionError("services.sh " + String.join(" ", args) + " exited " + p.exitValue() + "; see "
                    + log);
        }
    }

    @Override
    public void close() throws Exception {
        run(Duration.ofMinutes(2), "wipe");
    }

}
