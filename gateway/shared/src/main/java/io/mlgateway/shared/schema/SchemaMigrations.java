package io.mlgateway.shared.schema;

import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;

/**
 * The rentals schema's versioned migrations (classpath {@code db/migration}). The gateway owns them and applies
 * them; Flyway's own lock in PostgreSQL makes concurrent starts safe.
 */
public final class SchemaMigrations {

    private SchemaMigrations() {
    }

    public static MigrateResult migrate(String jdbcUrl, String user, String password) {
        return Flyway.configure()
                .dataSource(jdbcUrl, user, password)
                .locations("classpath:db/migration")
                .failOnMissingLocations(true)
                .connectRetries(0)
                // A migration's SELECT (V5 calls a function) would otherwise be printed as a table into the logs.
                .outputQueryResults(false)
                .load()
                .migrate();
    }

    /**
     * {@code r2dbc:postgresql://host:port/db?schema=s} (optionally {@code r2dbc:pool:…}) →
     * {@code jdbc:postgresql://host:port/db?currentSchema=s}: the same database and schema over JDBC.
     */
    public static String jdbcUrlOf(String r2dbcUrl) {
        String rest = r2dbcUrl.replaceFirst("^r2dbcs?:(pool:)?", "");
        if (!rest.startsWith("postgresql://")) {
            throw new IllegalArgumentException("not a PostgreSQL R2DBC URL: " + r2dbcUrl);
        }
        return "jdbc:" + rest.replaceAll("([?&])schema=", "$1currentSchema=");
    }
}
