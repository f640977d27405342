package io.mlgateway.shared.testing;

import io.mlgateway.shared.modelstore.ModelRegistry;
import io.r2dbc.spi.ConnectionFactory;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;

/** A {@link ModelRegistry} wired the way the apps wire it, over a given connection factory. */
public final class Registries {

    private Registries() {
    }

    public static ModelRegistry over(ConnectionFactory connections) {
        return new ModelRegistry(DatabaseClient.create(connections),
                TransactionalOperator.create(new R2dbcTransactionManager(connections)));
    }
}
