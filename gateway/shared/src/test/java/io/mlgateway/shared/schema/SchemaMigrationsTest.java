package io.mlgateway.shared.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SchemaMigrationsTest {

    @Test
    void jdbcUrlKeepsHostDatabaseAndSchema() {
        assertThat(SchemaMigrations.jdbcUrlOf("r2dbc:postgresql://127.0.0.1:5432/inference"))
                .isEqualTo("jdbc:postgresql://127.0.0.1:5432/inference");
        assertThat(SchemaMigrations.jdbcUrlOf("r2dbc:pool:postgresql://db:5433/x?schema=t_1&sslmode=disable"))
                .isEqualTo("jdbc:postgresql://db:5433/x?currentSchema=t_1&sslmode=disable");
        assertThatThrownBy(() -> SchemaMigrations.jdbcUrlOf("r2dbc:mysql://h/db")).hasMessageContaining("PostgreSQL");
    }
}
