package io.mlgateway.shared.logging;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import com.github.loki4j.logback.JsonLayout;
import com.github.loki4j.logback.Loki4jAppender;
import com.github.loki4j.logback.PipelineConfigAppenderBase;
import com.github.loki4j.logback.json.KeyValuePairsJsonProvider;
import com.github.loki4j.logback.json.MdcJsonProvider;
import org.slf4j.LoggerFactory;
import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.boot.context.logging.LoggingApplicationListener;
import org.springframework.context.ApplicationListener;
import org.springframework.core.Ordered;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Ships both apps' logs to Loki when {@code LOKI_URL} (a push URL, e.g. {@code http://loki:3100/loki/api/v1/push})
 * is set, as an environment variable, system property or Spring property; without it nothing tries to reach Loki.
 * Registered in {@code META-INF/spring.factories}; it runs right after Spring Boot has configured logging, so
 * the console keeps Boot's structured JSON and Loki gets every line from then on.
 *
 * <ul>
 *   <li>Labels: {@code service} (spring.application.name), {@code env} ({@code logging.loki.env}, default
 *       {@code local}) and {@code level}: low cardinality. Per-user and per-request values (user_id, request_id,
 *       count, rows, ...) are fields of the JSON log line, which LogQL reads with {@code | json}.</li>
 *   <li>Loki slow or down never blocks a request: the appender batches on its own thread into a bounded queue
 *       ({@code logging.loki.queue-max-bytes}) and drops what does not fit; its {@code loki4j_*} metrics count
 *       what was sent and dropped.</li>
 * </ul>
 */
public class LokiLogShipping implements ApplicationListener<ApplicationEnvironmentPreparedEvent>, Ordered {

    public static final String APPENDER = "LOKI";

    @Override
    public int getOrder() {
        return LoggingApplicationListener.DEFAULT_ORDER + 1;
    }

    @Override
    public void onApplicationEvent(ApplicationEnvironmentPreparedEvent event) {
        ConfigurableEnvironment env = event.getEnvironment();
        String url = env.getProperty("LOKI_URL", env.getProperty("logging.loki.url", ""));
        if (url.isBlank() || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        if (root.getAppender(APPENDER) != null) {
            return;
        }
        Loki4jAppender appender = new Loki4jAppender();
        appender.setName(APPENDER);
        appender.setContext(context);
        appender.setLabels("service=" + env.getProperty("spring.application.name", "app") + "\n"
                + "env=" + env.getProperty("logging.loki.env", "local") + "\n"
                + "level=%level");
        // Everything else travels in the JSON line (structured metadata needs Loki 2.9+ with schema v13).
        appender.setStructuredMetadata("off");
        appender.setMessage(jsonLines(context));
        PipelineConfigAppenderBase.HttpCfg http = new PipelineConfigAppenderBase.HttpCfg();
        http.setUrl(url);
        http.setConnectionTimeoutMs(2_000);
        http.setRequestTimeoutMs(5_000);
        appender.setHttp(http);
        PipelineConfigAppenderBase.BatchCfg batch = new PipelineConfigAppenderBase.BatchCfg();
        batch.setMaxItems(1_000);
        batch.setTimeoutMs(env.getProperty("logging.loki.batch-timeout-ms", Long.class, 1_000L));
        batch.setSendQueueMaxBytes(env.getProperty("logging.loki.queue-max-bytes", Long.class, 16L * 1024 * 1024));
        appender.setBatch(batch);
        appender.setMetricsEnabled(true);
        appender.start();
        root.addAppender(appender);
    }

    /** One JSON object per line: timestamp, level, logger, thread, message, stack trace, and the event's fields. */
    private static JsonLayout jsonLines(LoggerContext context) {
        JsonLayout layout = new JsonLayout();
        layout.setContext(context);
        KeyValuePairsJsonProvider kvp = new KeyValuePairsJsonProvider();
        kvp.setNoPrefix(true);
        layout.setKvp(kvp);
        MdcJsonProvider mdc = new MdcJsonProvider();
        mdc.setNoPrefix(true);
        layout.setMdc(mdc);
        return layout;
    }
}
