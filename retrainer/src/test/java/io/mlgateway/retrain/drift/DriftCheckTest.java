package io.mlgateway.retrain.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.training.BikeSharingData;
import java.util.List;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class DriftCheckTest {

    private static final List<BikeSharingData.Hour> HOURS_2012 = BikeSharingData.where(h -> !h.isYear2011());

    private static List<float[]> rows(int from, int to) {
        return HOURS_2012.subList(from, to).stream().map(BikeSharingData.Hour::features).toList();
    }

    @Test
    void psiIsZeroForTheSameSharesAndTheTextbookValueOtherwise() {
        assertThat(FeatureBins.psi(new double[] {0.25, 0.75}, new double[] {0.25, 0.75})).isZero();
        // (0.9 - 0.5) ln(0.9 / 0.5) + (0.1 - 0.5) ln(0.1 / 0.5) = 0.8789
        assertThat(FeatureBins.psi(new double[] {0.5, 0.5}, new double[] {0.9, 0.1})).isCloseTo(0.8789,
                Offset.offset(1e-3));
        // An empty reference bin is smoothed, never infinite.
        assertThat(FeatureBins.psi(new double[] {1, 0}, new double[] {0.5, 0.5})).isFinite().isGreaterThan(1);
        assertThatThrownBy(() -> FeatureBins.psi(new double[2], new double[3])).isInstanceOf(
                IllegalArgumentException.class);
    }

    @Test
    void binsCoverEveryValueIncludingOutOfRangeAndMissing() {
        int hr = RentalFeatures.indexOf("hr");
        int temp = RentalFeatures.indexOf("temp");
        assertThat(FeatureBins.bin(hr, 0)).isZero();
        assertThat(FeatureBins.bin(hr, 23)).isEqualTo(23);
        assertThat(FeatureBins.bin(temp, 0.55f)).isEqualTo(5);
        assertThat(FeatureBins.bin(temp, 1.0f)).isEqualTo(9);
        assertThat(FeatureBins.bin(temp, 7f)).isEqualTo(9);
        assertThat(FeatureBins.bin(temp, -3f)).isZero();
        assertThat(FeatureBins.bin(temp, Float.NaN)).isZero();
        double[][] shares = FeatureBins.shares(rows(0, 500));
        for (double[] feature : shares) {
            assertThat(java.util.Arrays.stream(feature).sum()).isCloseTo(1.0, Offset.offset(1e-9));
        }
    }

    @Test
    void julyRequestsDriftFromAJanuaryReferenceAndJanuaryOnesDoNot() {
        String reference = DriftCheck.reference(rows(0, 400));
        assertThat(reference).startsWith("{\"rows\": 400, \"shares\": [[");

        DriftCheck.Drift july = DriftCheck.of(reference, rows(4400, 4800));
        assertThat(july.psi()).isGreaterThan(1);
        assertThat(july.feature()).isIn("season", "mnth", "temp", "atemp");

        DriftCheck.Drift sameWeeks = DriftCheck.of(reference, rows(0, 400));
        assertThat(sameWeeks.psi()).isLessThan(1e-9);
        // Every other hour of the same weeks: a sample of the same population.
        List<float[]> sample = new java.util.ArrayList<>();
        for (int i = 1; i < 400; i += 2) {
            sample.add(HOURS_2012.get(i).features());
        }
        assertThat(DriftCheck.of(reference, sample).psi()).isLessThan(0.2);
        // A week is not the population of its month: the middle week of the same January (no New Year holiday,
        // other weather) is already above 0.2 (docs/RETRAIN.md, "Drift").
        assertThat(DriftCheck.of(reference, rows(100, 300)).psi()).isGreaterThan(0.2);
    }
}
