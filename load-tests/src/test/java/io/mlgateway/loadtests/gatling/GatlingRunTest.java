package io.mlgateway.loadtests.gatling;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class GatlingRunTest {

    /** The last summary of a run, as Gatling 3.15 prints it (an earlier periodic one comes before it). */
    private static final String OUTPUT = """
            ---- Requests ------------------------------------------------|---Total---|-----OK----|----KO----
            > POST /v1/rentals/actuals                                  |         5 |         5 |         0
            ================================================================================
            ---- Requests ------------------------------------------------|---Total---|-----OK----|----KO----
            > Global                                                    |     1,503 |     1,500 |         3
            > warm-up: POST /v1/rentals/{user}/predict                  |        31 |        31 |         0
            > warm-up: POST /v1/rentals/actuals                         |        31 |        30 |         1
            > POST /v1/rentals/{user}/predict                           |       720 |       720 |         0
            > POST /v1/rentals/actuals                                  |     1,720 |     1,718 |         2
            ---- forecast, then its actual ----------------------------------------------------------------
            > POST /v1/rentals/actuals                                  |        99 |        99 |         0
            """;

    @Test
    void okCountsComeFromTheLastSummaryWarmUpIncluded() {
        GatlingRun run = new GatlingRun(0, OUTPUT, null);
        assertThat(run.okCount("POST /v1/rentals/actuals")).isEqualTo(30 + 1_718);
        assertThat(run.okCount("POST /v1/rentals/{user}/predict")).isEqualTo(31 + 720);
        assertThat(run.okCount("GET /nothing")).isZero();
    }
}
