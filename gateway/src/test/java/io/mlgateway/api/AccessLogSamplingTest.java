package io.mlgateway.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Which requests the access log writes when ordinary ones are not sampled at all. */
class AccessLogSamplingTest {

    private final AccessLogLines lines = new AccessLogLines();
    private final AccessLog log = new AccessLog(new AccessLogProperties(0.0, Duration.ofMillis(100)));

    @BeforeEach
    void attach() {
        lines.attach();
    }

    @AfterEach
    void detach() {
        lines.detach();
    }

    @Test
    void ordinaryRequestsAndLoadSheddingAreSampledErrorsAndSlowRequestsAlwaysLogged() {
        long fast = Duration.ofMillis(2).toNanos();
        log.record("POST", "/reg/", 200, fast, "ok");
        log.record("POST", "/reg/", 400, fast, "bad-input");
        log.record("POST", "/reg/", 503, fast, "shed");
        log.record("POST", "/reg/", 500, fast, "broken");
        log.record("POST", "/reg/", 200, Duration.ofMillis(150).toNanos(), "slow");
        assertThat(lines.lines()).extracting(e -> e.getKeyValuePairs().get(0).value).containsExactly("broken", "slow");
    }

    @Test
    void aFullSampleRateLogsEverything() {
        AccessLog everything = new AccessLog(new AccessLogProperties(1.0, Duration.ofSeconds(10)));
        everything.record("POST", "/reg/", 200, 1, "a");
        everything.record("POST", "/reg/", 503, 1, "b");
        assertThat(lines.lines()).hasSize(2);
    }
}
