package io.mlgateway.retrain;

import io.mlgateway.shared.actuals.ActualsTable;
import io.mlgateway.shared.storage.Connections;
import io.mlgateway.shared.storage.DatabaseProperties;
import io.r2dbc.postgresql.api.Notification;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.postgresql.api.PostgresqlResult;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.retry.Retry;

/**
 * Learns of new actuals as they commit: {@code LISTEN actual_rentals} on a dedicated connection (a trigger on the
 * table notifies with the user id). Reconnects with backoff when the connection drops; notifications sent while
 * it was down are covered by the sweep.
 */
@Component
public class ActualsListener {

    private static final Logger log = LoggerFactory.getLogger(ActualsListener.class);
    static final String CHANNEL = ActualsTable.NOTIFY_CHANNEL;

    private final DatabaseProperties database;

    public ActualsListener(DatabaseProperties database) {
        this.database = database;
    }

    /** User ids with new actuals, as they arrive (hot while subscribed). */
    public Flux<String> userIds() {
        return Flux.usingWhen(
                        Mono.from(Connections.connectionFactory(database).create()).cast(PostgresqlConnection.class),
                        connection -> connection.createStatement("LISTEN " + CHANNEL).execute()
                                .flatMap(PostgresqlResult::getRowsUpdated)
                                .thenMany(Flux.defer(() -> {
                                    log.info("listening for new actuals on channel {}", CHANNEL);
                                    return connection.getNotifications();
                                }))
                                .map(Notification::getParameter),
                        PostgresqlConnection::close)
                // getNotifications completes when the connection closes: treat it like an error and reconnect.
                .concatWith(Mono.error(() -> new IllegalStateException("LISTEN connection closed")))
                .retryWhen(Retry.backoff(Long.MAX_VALUE, Duration.ofSeconds(1)).maxBackoff(Duration.ofSeconds(30))
                        .doBeforeRetry(s -> log.warn("LISTEN {} lost, reconnecting: {}", CHANNEL, s.failure().toString())));
    }
}
