package io.mlgateway.shared.storage;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.reactive.RedisReactiveCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.springframework.beans.factory.DisposableBean;
import reactor.core.publisher.Mono;

/**
 * A binary Redis connection opened on first use rather than at start-up (the gateway must start without Redis).
 * A failed attempt is not remembered, so the next use tries again; once open, Lettuce reconnects by itself.
 */
public class LazyRedisConnection implements DisposableBean {

    private final RedisClient client;
    private final RedisURI uri;
    private final AtomicReference<Mono<StatefulRedisConnection<byte[], byte[]>>> connection = new AtomicReference<>();

    public LazyRedisConnection(RedisClient client, String url, Duration connectTimeout) {
        this.client = client;
        this.uri = RedisURI.create(url);
        this.uri.setTimeout(connectTimeout);
    }

    public Mono<RedisReactiveCommands<byte[], byte[]>> commands() {
        Mono<StatefulRedisConnection<byte[], byte[]>> current = connection.get();
        if (current == null) {
            Mono<StatefulRedisConnection<byte[], byte[]>> fresh = Mono
                    .fromCompletionStage(() -> client.connectAsync(ByteArrayCodec.INSTANCE, uri))
                    .cache(ok -> Duration.ofMillis(Long.MAX_VALUE), error -> Duration.ZERO, () -> Duration.ZERO);
            current = connection.compareAndSet(null, fresh) ? fresh : connection.get();
        }
        return current.map(StatefulRedisConnection::reactive);
    }

    @Override
    public void destroy() {
        Mono<StatefulRedisConnection<byte[], byte[]>> current = connection.getAndSet(null);
        if (current != null) {
            current.subscribe(StatefulRedisConnection::closeAsync, error -> { });
        }
    }
}
