package io.mlgateway.rentals;

import io.mlgateway.shared.actuals.ActualsTable;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.r2dbc.core.DatabaseClient;

/** The {@code actual_rentals} table the actuals writer stores into. */
@Configuration(proxyBeanMethods = false)
class ActualsStorage {

    @Bean
    ActualsTable actualsTable(DatabaseClient db) {
        return new ActualsTable(db);
    }
}
