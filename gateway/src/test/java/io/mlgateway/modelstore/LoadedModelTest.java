package io.mlgateway.modelstore;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.core.training.BikeSharingData;
import io.mlgateway.core.training.BoosterTrainer;
import io.mlgateway.core.training.TrainingSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Native boosters are freed exactly once, and never while a request holds them. */
class LoadedModelTest {

    private static final TrainingSet DATA = TrainingSet.of(BikeSharingData.load().subList(0, 500));

    private static LoadedModel model() {
        return new LoadedModel(BoosterTrainer.trainFromScratch(DATA, 3), 7, false, 1000);
    }

    @Test
    void retiringAnIdleModelFreesItAtOnce() {
        LoadedModel m = model();
        m.retire();
        assertThat(m.isDisposed()).isTrue();
        assertThat(m.tryAcquire()).isFalse();
        m.retire(); // twice is harmless
    }

    @Test
    void aHeldModelIsFreedOnlyWhenItsLastHolderReleases() {
        LoadedModel m = model();
        assertThat(m.tryAcquire()).isTrue();
        assertThat(m.tryAcquire()).isTrue();
        m.retire();
        assertThat(m.isDisposed()).isFalse();
        assertThat(m.predict(DATA.features(), 1)).hasSize(1); // still usable by its holders
        m.release();
        assertThat(m.isDisposed()).isFalse();
        m.release();
        assertThat(m.isDisposed()).isTrue();
        assertThat(m.tryAcquire()).isFalse();
    }

    @Test
    void concurrentScoringWhileRetiredNeverUsesAFreedBooster() throws Exception {
        for (int round = 0; round < 20; round++) {
            LoadedModel m = model();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> scorers = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                scorers.add(pool.submit(() -> {
                    go.await();
                    int scored = 0;
                    for (int i = 0; i < 200; i++) {
                        if (!m.tryAcquire()) {
                            break;
                        }
                        try {
                            assertThat(m.isDisposed()).isFalse();
                            m.predict(DATA.features(), 2);
                            scored++;
                        } finally {
                            m.release();
                        }
                    }
                    return scored;
                }));
            }
            go.countDown();
            Thread.sleep(1);
            m.retire();
            for (Future<Integer> f : scorers) {
                f.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();
            assertThat(m.isDisposed()).isTrue();
        }
    }
}
