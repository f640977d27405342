package io.mlgateway.retrain;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/** Captures the retrain log events (their key-value fields) as the retrainer emits them. */
final class CapturedEvents extends AppenderBase<ILoggingEvent> {

    private final List<Map<String, Object>> events = new CopyOnWriteArrayList<>();

    static CapturedEvents attach() {
        CapturedEvents appender = new CapturedEvents();
        Logger logger = (Logger) LoggerFactory.getLogger("retrain");
        appender.setContext(logger.getLoggerContext());
        appender.start();
        logger.addAppender(appender);
        return appender;
    }

    void detach() {
        ((Logger) LoggerFactory.getLogger("retrain")).detachAppender(this);
    }

    @Override
    protected void append(ILoggingEvent event) {
        Map<String, Object> fields = new HashMap<>();
        if (event.getKeyValuePairs() != null) {
            for (KeyValuePair kv : event.getKeyValuePairs()) {
                fields.put(kv.key, kv.value);
            }
        }
        fields.put("level", event.getLevel().toString());
        events.add(fields);
    }

    /** Every captured event of that name (also those without a user id). */
    List<Map<String, Object>> of(String event) {
        return events.stream().filter(e -> event.equals(e.get("event"))).toList();
    }

    List<Map<String, Object>> of(String event, String userId) {
        return events.stream().filter(e -> event.equals(e.get("event")) && userId.equals(e.get("user_id"))).toList();
    }
}
