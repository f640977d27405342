package io.mlgateway.loadtests.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.loadtests.gatling.ProductUnderTest;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The replay, shortened, against the packaged gateway and retrainer on the real services: over the first 600 hours of
 * 2012 the user's retrained models must forecast clearly better than the frozen base model served beside them. The
 * full run and its figures: docs/RETRAIN.md.
 */
class ReplayTest {

    @Test
    void retrainingBeatsTheFrozenModelByAClearMargin() throws Exception {
        List<BikeSharingData.Hour> hours = BikeSharingData.where(h -> !h.isYear2011()).subList(0, 600);
        try (ProductUnderTest product = new ProductUnderTest()) {
            LiveReplay.Result result = new LiveReplay(product.baseUrl(), ProductUnderTest.API_KEY)
                    .run(hours, 20, 10, false); // 30 s: slow enough for every refit to land on 2 busy cores

            // Hours 100-600: after the first retrains have had time to land.
            double live = result.mae(result.served(), 100, 600);
            double frozen = result.mae(result.frozen(), 100, 600);
            System.out.printf(java.util.Locale.ROOT, "replay hours 100-600: MAE live %.2f, frozen %.2f, %d versions%n",
                    live, frozen, result.distinctVersions());
            assertThat(result.distinctVersions()).as("model versions served").isGreaterThanOrEqualTo(5);
            assertThat(live).as("live MAE %.2f vs frozen %.2f", live, frozen).isLessThan(0.75 * frozen);
        }
    }
}
