package io.mlgateway.retrain;

import static io.mlgateway.retrain.RetrainFixtures.TIMEOUT;
import static io.mlgateway.retrain.RetrainFixtures.databaseWithBaseModel;
import static io.mlgateway.retrain.RetrainFixtures.logPredictions;
import static io.mlgateway.retrain.RetrainFixtures.newUser;
import static io.mlgateway.retrain.RetrainFixtures.props;
import static io.mlgateway.retrain.RetrainFixtures.storeActuals;
import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.retrain.RetrainFixtures.Instance;
import io.mlgateway.retrain.RetrainFixtures.Logged;
import io.mlgateway.retrain.RetrainFixtures.TestFitter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import reactor.core.scheduler.Schedulers;

/**
 * Drift on the real PostgreSQL: a user whose model was fitted on January hours starts sending July hours. The
 * crossing triggers one refit with the actuals there are, logged with reason drift; later sweeps while still above
 * trigger nothing; falling back below re-arms it, and the next crossing refits again.
 */
class DriftMonitorTest {

    private static final List<BikeSharingData.Hour> HOURS_2012 = BikeSharingData.where(h -> !h.isYear2011());
    private static LocalServices.TestDatabase db;
    private static Instance retrainer;
    private CapturedEvents events;

    @BeforeAll
    static void database() {
        db = databaseWithBaseModel();
        retrainer = new Instance(db, "drift");
    }

    @AfterAll
    static void close() {
        retrainer.close();
    }

    @BeforeEach
    void capture() {
        events = CapturedEvents.attach();
    }

    @AfterEach
    void release() {
        events.detach();
    }

    private static List<BikeSharingData.Hour> repeat(List<BikeSharingData.Hour> hours, int times) {
        List<BikeSharingData.Hour> all = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            all.addAll(hours);
        }
        return all;
    }

    @Test
    void aCrossingAboveTheThresholdRefitsOnceAndFallingBackBelowReArmsIt() {
        String user = newUser("drift");
        RetrainProperties.Drift drift = new RetrainProperties.Drift(0.2, Duration.ofMinutes(5), Duration.ofHours(1),
                200, 50, 10);
        // The user's model: fitted on January hours 0-39 (40..49 held out), its reference those 40 rows.
        RetrainProperties accepting = props().drift(drift).build();
        List<Logged> january = logPredictions(db, user, HOURS_2012.subList(0, 50));
        storeActuals(db, january);
        assertThat(retrainer.pipeline(accepting).run(user).block(TIMEOUT)).isEqualTo(RetrainPipeline.Outcome.RETRAINED);
        ModelRecord model = retrainer.registry.current(user).block(TIMEOUT);
        assertThat(model.metrics()).contains("\"reference\": {\"rows\": 40");

        // Later refits here lose to the champion, so the model (and its reference) stays put.
        RetrainProperties strict = props().drift(drift).maxMaeRatio(1e-9).build();
        TestFitter fitter = new TestFitter(strict);
        DriftMonitor monitor = new DriftMonitor(retrainer.store, retrainer.pipeline(strict, fitter), strict,
                Schedulers.boundedElastic(), retrainer.meters);

        // Too few requests since the model was stored: not judged yet.
        logPredictions(db, user, HOURS_2012.subList(4400, 4430));
        assertThat(check(monitor, user)).isEqualTo(DriftMonitor.Result.TOO_FEW_REQUESTS);

        // July arrives: 100 requests and 10 actuals among them.
        List<Logged> july = logPredictions(db, user, HOURS_2012.subList(4430, 4500));
        storeActuals(db, july.subList(0, 10));
        assertThat(check(monitor, user)).isEqualTo(DriftMonitor.Result.CROSSED);
        assertThat(fitter.calls).hasValue(1);
        assertThat(events.of("retrain.drift", user)).singleElement().satisfies(e -> {
            assertThat(e.get("reason")).isEqualTo("drift");
            assertThat((Double) e.get("psi")).isGreaterThan(0.2);
        });
        assertThat(events.of("retrain.drift_refit", user)).singleElement()
                .satisfies(e -> assertThat(e.get("outcome")).isEqualTo("rejected"));
        assertThat(retrainer.counter("retrainer.drift.crossings")).isEqualTo(1);

        // Still above on the next sweeps: nothing more.
        storeActuals(db, july.subList(10, 20));
        assertThat(check(monitor, user)).isEqualTo(DriftMonitor.Result.STILL_ABOVE);
        assertThat(check(monitor, user)).isEqualTo(DriftMonitor.Result.STILL_ABOVE);
        assertThat(fitter.calls).hasValue(1);

        // Back to January's mix (the latest 200 requests exactly the reference's rows): below, re-armed.
        logPredictions(db, user, repeat(HOURS_2012.subList(0, 40), 5));
        assertThat(check(monitor, user)).isEqualTo(DriftMonitor.Result.BELOW);
        assertThat(db.count("SELECT count(*) FROM retrain_state WHERE user_id = '" + user + "' AND drift_above"))
                .isZero();

        // July again: a new crossing, a new refit.
        List<BikeSharingData.Hour> julyAgain = new ArrayList<>(HOURS_2012.subList(4500, 4700));
        Collections.shuffle(julyAgain, new java.util.Random(1));
        logPredictions(db, user, julyAgain);
        assertThat(check(monitor, user)).isEqualTo(DriftMonitor.Result.CROSSED);
        assertThat(fitter.calls).hasValue(2);
        assertThat(retrainer.counter("retrainer.drift.crossings")).isEqualTo(2);
    }

    /** The monitor's check of {@code user} (the sweep's step for one user). */
    private static DriftMonitor.Result check(DriftMonitor monitor, String user) {
        RetrainStore.DriftCandidate candidate = retrainer.store.driftCandidates(Duration.ofHours(1))
                .filter(c -> c.userId().equals(user)).blockFirst(TIMEOUT);
        return monitor.check(candidate).block(TIMEOUT);
    }
}
