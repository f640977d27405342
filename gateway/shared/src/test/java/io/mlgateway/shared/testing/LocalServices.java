package io.mlgateway.shared.testing;

import io.mlgateway.shared.schema.SchemaMigrations;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Locale;
import java.util.UUID;

/**
 * The real PostgreSQL, Redis and Kafka that {@code deploy/local/services.sh up} starts. Tests that need one call
 * it here: when a service is down they fail with a message naming the script, never skip.
 */
public final class LocalServices {

    public static final String HINT = "start the local services with: deploy/local/services.sh up";

    private LocalServices() {
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    public static String pgHost() {
        return "127.0.0.1";
    }

    public static int pgPort() {
        return Integer.parseInt(env("LOCAL_PG_PORT", "5432"));
    }

    public static String pgDatabase() {
        return env("LOCAL_PG_DB", "inference");
    }

    public static String pgUser() {
        return env("LOCAL_PG_USER", "inference");
    }

    public static String pgPassword() {
        return env("LOCAL_PG_PASSWORD", "inference");
    }

    public static int redisPort() {
        return Integer.parseInt(env("LOCAL_REDIS_PORT", "6379"));
    }

    public static int kafkaPort() {
        return Integer.parseInt(env("LOCAL_KAFKA_PORT", "9092"));
    }

    public static String redisUri() {
        requireListening("Redis", redisPort());
        return "redis://127.0.0.1:" + redisPort();
    }

    public static String kafkaBootstrap() {
        requireListening("Kafka", kafkaPort());
        return "127.0.0.1:" + kafkaPort();
    }

    /** A schema of its own in the local database, migrated to the current version: tests never share tables. */
    public static TestDatabase freshDatabase() {
        requireListening("PostgreSQL", pgPort());
        String schema = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toLowerCase(Locale.ROOT);
        String jdbc = "jdbc:postgresql://" + pgHost() + ":" + pgPort() + "/" + pgDatabase();
        try (Connection c = DriverManager.getConnection(jdbc, pgUser(), pgPassword())) {
            c.createStatement().execute("CREATE SCHEMA " + schema);
        } catch (SQLException e) {
            throw new AssertionError("cannot create a test schema in PostgreSQL at " + jdbc + " as " + pgUser()
                    + " (" + e.getMessage() + "); " + HINT, e);
        }
        String jdbcUrl = jdbc + "?currentSchema=" + schema;
        SchemaMigrations.migrate(jdbcUrl, pgUser(), pgPassword());
        String r2dbcUrl = "r2dbc:postgresql://" + pgHost() + ":" + pgPort() + "/" + pgDatabase() + "?schema=" + schema;
        return new TestDatabase(schema, jdbcUrl, r2dbcUrl);
    }

    private static void requireListening(String service, int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
        } catch (IOException e) {
            throw new AssertionError(service + " is not reachable on 127.0.0.1:" + port + " (" + e.getMessage()
                    + "); " + HINT);
        }
    }

    /** A migrated schema: URLs for JDBC and R2DBC that select it, and the credentials. */
    public record TestDatabase(String schema, String jdbcUrl, String r2dbcUrl) {

        public String user() {
            return pgUser();
        }

        public String password() {
            return pgPassword();
        }

        /** The Spring properties that point an application at this schema and at the local Redis and Kafka. */
        public java.util.Map<String, String> springProperties() {
            return java.util.Map.of(
                    "spring.r2dbc.url", r2dbcUrl,
                    "spring.r2dbc.username", pgUser(),
                    "spring.r2dbc.password", pgPassword(),
                    "spring.data.redis.url", redisUri(),
                    "spring.kafka.bootstrap-servers", kafkaBootstrap());
        }

        /** A plain (unpooled) connection factory; each call is a separate "instance". */
        public ConnectionFactory connectionFactory() {
            return ConnectionFactories.get(io.r2dbc.spi.ConnectionFactoryOptions.parse(r2dbcUrl).mutate()
                    .option(io.r2dbc.spi.ConnectionFactoryOptions.USER, pgUser())
                    .option(io.r2dbc.spi.ConnectionFactoryOptions.PASSWORD, pgPassword())
                    .build());
        }

        public Connection jdbc() throws SQLException {
            return DriverManager.getConnection(jdbcUrl, pgUser(), pgPassword());
        }

        public long count(String sql) {
            try (Connection c = jdbc(); var rs = c.createStatement().executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            } catch (SQLException e) {
                throw new AssertionError(e);
            }
        }
    }
}
