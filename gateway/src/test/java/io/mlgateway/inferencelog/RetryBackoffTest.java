package io.mlgateway.inferencelog;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RetryBackoffTest {

    private final RetryBackoff backoff = new RetryBackoff(Duration.ofMillis(100), Duration.ofSeconds(5));

    private long millis(int failures, double random) {
        return backoff.delay(failures, random).toMillis();
    }

    @Test
    void doublesFromTheMinimumUpToTheCap() {
        assertThat(IntStream.rangeClosed(1, 9).mapToLong(n -> millis(n, 0)).toArray())
                .containsExactly(100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000);
    }

    @Test
    void jitterShortensByUpToHalfButNeverBelowTheMinimum() {
        assertThat(millis(1, 0.999)).isEqualTo(100);
        assertThat(millis(2, 0.999)).isEqualTo(100);
        assertThat(millis(3, 0.5)).isEqualTo(300);
        assertThat(millis(10, 0.999)).isEqualTo(2502);
        for (int n = 1; n < 40; n++) {
            for (double r = 0; r < 1; r += 0.01) {
                assertThat(backoff.delay(n, r)).isBetween(Duration.ofMillis(100), Duration.ofSeconds(5));
            }
        }
    }

    @Test
    void aLongOutageStaysAtTheCapInsteadOfOverflowing() {
        assertThat(millis(64, 0)).isEqualTo(5000);
        assertThat(millis(1_000_000, 0)).isEqualTo(5000);
        assertThat(millis(Integer.MAX_VALUE, 0)).isEqualTo(5000);
    }
}
