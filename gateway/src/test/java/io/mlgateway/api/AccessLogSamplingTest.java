package io.mlgateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Which requests the access log writes when ordinary ones are not sampled at all. */
class AccessLogSamplingTest {

    private final ListAppender<ILoggingEvent> lines = new ListAppender<>();
    private final AccessLog log = new AccessLog(new AccessLogProperties(0.0, Duration.ofMillis(100)));

    @BeforeEach
    void attach() {
        Logger access = (Logger) LoggerFactory.getLogger("access");
        lines.setContext(access.getLoggerContext());
        lines.start();
        access.addAppender(lines);
    }

    @AfterEach
    void detach() {
        ((Logger) LoggerFactory.getLogger("access")).detachAppender(lines);
    }

    @Test
    void ordinaryRequestsAndLoadSheddingAreSampledErrorsAndSlowRequestsAlwaysLogged() {
        long fast = Duration.ofMillis(2).toNanos();
        log.record("POST", "/reg/", 200, fast, "ok");
        log.record("POST", "/reg/", 400, fast, "bad-input");
        log.record("POST", "/reg/", 503, fast, "shed");
        log.record("POST", "/reg/", 500, fast, "broken");
        log.record("POST", "/reg/", 200, Duration.ofMillis(150).toNanos(), "slow");
        assertThat(lines.list).extracting(e -> e.getKeyValuePairs().get(0).value).containsExactly("broken", "slow");
    }

    @Test
    void aFullSampleRateLogsEverything() {
        AccessLog everything = new AccessLog(new AccessLogProperties(1.0, Duration.ofSeconds(10)));
        everything.record("POST", "/reg/", 200, 1, "a");
        everything.record("POST", "/reg/", 503, 1, "b");
        assertThat(lines.list).hasSize(2);
    }
}
