package io.mlgateway.shared.storage;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.TimeoutOptions;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;

/**
 * How both apps connect to PostgreSQL and Redis. Nothing here connects eagerly: an app starts with the services
 * down and its requests (or retrain attempts) fail fast until they are reachable.
 */
public final class Connections {

    private Connections() {
    }

    /** An unpooled factory, e.g. for a dedicated LISTEN connection. */
    public static ConnectionFactory connectionFactory(DatabaseProperties properties) {
        return ConnectionFactories.get(ConnectionFactoryOptions.parse(properties.url()).mutate()
                .option(ConnectionFactoryOptions.USER, properties.username())
                .option(ConnectionFactoryOptions.PASSWORD, properties.password())
                .option(ConnectionFactoryOptions.CONNECT_TIMEOUT, properties.pool().maxAcquireTime())
                .build());
    }

    public static ConnectionPool connectionPool(DatabaseProperties properties, String name) {
        return new ConnectionPool(ConnectionPoolConfiguration.builder(connectionFactory(properties))
                .name(name)
                .maxSize(properties.pool().maxSize())
                .initialSize(properties.pool().initialSize())
                .minIdle(0)
                .maxAcquireTime(properties.pool().maxAcquireTime())
                .acquireRetry(0)
                .build());
    }

    public static RedisClient redisClient(RedisConnectionProperties properties) {
        RedisClient client = RedisClient.create(properties.url());
        client.setOptions(ClientOptions.builder()
                // While Redis is down, fail commands at once instead of queueing them until it returns.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .autoReconnect(true)
                .timeoutOptions(TimeoutOptions.enabled(properties.timeout()))
                .build());
        return client;
    }
}
