package io.mlgateway.retrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlgateway.shared.actuals.ActualsTable;
import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.inferencelog.PredictionPartitions;
import io.mlgateway.shared.inferencelog.PredictionRecord;
import io.mlgateway.shared.inferencelog.PredictionTable;
import io.mlgateway.shared.testing.LocalServices;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.test.StepVerifier;

class InferenceLogRetentionTest {

    private final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private final DatabaseClient client = DatabaseClient.create(db.connectionFactory());
    private final PredictionPartitions partitions = new PredictionPartitions(client);
    private final LocalDate today = PredictionPartitions.today();

    private void logged(LocalDate day, boolean withPendingActual) {
        Instant at = day.atTime(12, 0).toInstant(ZoneOffset.UTC);
        UUID id = new UUID((at.toEpochMilli() << 16) | 0x7000L, 0x8000000000000001L + day.toEpochDay());
        StepVerifier.create(new PredictionTable(client).insert(List.of(new PredictionRecord(id, "u", 1,
                new float[RentalFeatures.COUNT], 1.0, at)))).expectNext(1L).verifyComplete();
        if (withPendingActual) {
            StepVerifier.create(new ActualsTable(client).store(List.of(new ActualsTable.Actual(id, 2.0,
                    OffsetDateTime.now(ZoneOffset.UTC))))).expectNextCount(1).verifyComplete();
        }
    }

    @Test
    void createsTheComingDaysAndDropsExpiredDaysTrainingNoLongerNeeds() {
        StepVerifier.create(partitions.ensure(today.minusDays(40), today.minusDays(29))).expectNextCount(1)
                .verifyComplete();
        logged(today.minusDays(40), false);        // expired, nothing needed: dropped
        logged(today.minusDays(35), true);         // expired, but its actual is not used yet: kept
        logged(today.minusDays(29), false);        // within the 30 days: not considered
        InferenceLogRetention retention = new InferenceLogRetention(partitions,
                new InferenceLogRetentionProperties(Duration.ofDays(30), 10, Duration.ofHours(1)), 4000, () -> today);

        StepVerifier.create(retention.maintain())
                .assertNext(result -> {
                    // Days -40..-31 are expired: -35 is kept, the nine others (empty or not) dropped.
                    assertThat(result.dropped()).isEqualTo(9);
                    assertThat(result.kept()).isEqualTo(1);
                    assertThat(result.created()).as("the migration made 7 days ahead; 3 more").isEqualTo(3);
                })
                .verifyComplete();
        StepVerifier.create(partitions.days().collectList())
                .assertNext(days -> assertThat(days).contains(today.minusDays(35), today.minusDays(30),
                        today.minusDays(29), today.plusDays(10)).doesNotContain(today.minusDays(40),
                        today.minusDays(31)))
                .verifyComplete();
        assertThat(db.count("SELECT count(*) FROM rental_predictions")).isEqualTo(2);

        StepVerifier.create(retention.maintain())
                .assertNext(again -> assertThat(again).isEqualTo(new InferenceLogRetention.Result(0, 0, 1)))
                .verifyComplete();
    }

    @Test
    void retentionBelowADayIsRefusedNamingTheKey() {
        assertThatThrownBy(() -> new InferenceLogRetentionProperties(Duration.ofHours(12), 7, Duration.ofHours(1)))
                .hasMessageContaining("retrainer.inference-log.retention");
        assertThatThrownBy(() -> new InferenceLogRetentionProperties(Duration.ofDays(30), 0, Duration.ofHours(1)))
                .hasMessageContaining("retrainer.inference-log.days-ahead");
    }
}
