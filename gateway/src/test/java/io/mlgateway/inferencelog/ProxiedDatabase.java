package io.mlgateway.inferencelog;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.inferencelog.PredictionRecord;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.LocalServices.TestDatabase;
import io.mlgateway.shared.testing.TcpProxy;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactoryOptions;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import org.springframework.r2dbc.core.DatabaseClient;

/**
 * A fresh schema in the real local PostgreSQL, reached through a {@link TcpProxy} (so a test can cut it off) by
 * a connection pool configured like the gateway's (StorageConfiguration): lazy, 2 s to get a connection, no
 * acquire retries.
 */
final class ProxiedDatabase implements AutoCloseable {

    final TestDatabase db = LocalServices.freshDatabase();
    final TcpProxy proxy = TcpProxy.start(LocalServices.pgPort());
    final ConnectionPool pool;
    final DatabaseClient client;

    ProxiedDatabase() {
        String url = db.r2dbcUrl().replace(":" + LocalServices.pgPort() + "/", ":" + proxy.port() + "/");
        ConnectionFactoryOptions options = ConnectionFactoryOptions.parse(url).mutate()
                .option(ConnectionFactoryOptions.USER, db.user())
                .option(ConnectionFactoryOptions.PASSWORD, db.password())
                .option(ConnectionFactoryOptions.CONNECT_TIMEOUT, Duration.ofSeconds(2))
                .build();
        pool = new ConnectionPool(ConnectionPoolConfiguration.builder(ConnectionFactories.get(options))
                .name("inference-log-test")
                .maxSize(4)
                .initialSize(0)
                .minIdle(0)
                .maxAcquireTime(Duration.ofSeconds(2))
                .acquireRetry(0)
                .build());
        client = DatabaseClient.create(pool);
    }

    /** Rows in rental_predictions, counted directly (JDBC, not through the proxy). */
    long rows() {
        return db.count("SELECT count(*) FROM rental_predictions");
    }

    boolean stored(UUID requestId) {
        return db.count("SELECT count(*) FROM rental_predictions WHERE request_id = '" + requestId + "'") == 1;
    }

    static PredictionRecord record() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        float[] features = new float[RentalFeatures.COUNT];
        for (int i = 0; i < features.length; i++) {
            features[i] = random.nextFloat() * 40;
        }
        return new PredictionRecord(UUID.randomUUID(), "user-" + random.nextInt(50), random.nextInt(1, 100), features,
                random.nextDouble() * 500, Instant.now().truncatedTo(ChronoUnit.MICROS));
    }

    @Override
    public void close() {
        pool.dispose();
        proxy.close();
    }
}
