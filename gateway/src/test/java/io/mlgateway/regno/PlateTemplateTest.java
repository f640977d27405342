package io.mlgateway.regno;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PlateTemplateTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
            А939НО196 | private car
            В154АУ77  | private car
            АВ12345   | ' lk_taxi_r_pricep'
            АВ123456  | ' lk_taxi_r_pricep'
            АВ1234567 | lk_pricep_r_transit
            1234АВ77  | lk_moto_tract
            1234АВ777 | lk_moto_tract
            А1234ВС   | some
            АВ123С77  | lk_transit
            АВ123С777 | lk_transit
            ТАВ12345  | lk_export
            TАВ123456 | lk_export
            А123456   | lk_mvd_avto
            А1234567  | lk_mvd_avto
            1234А77   | lk_mvd_moto
            123А77    | lk_mvd_pricep
            123А777   | lk_mvd_pricep
            123CD4567 | lk_diplomat
            123СD456  | lk_diplomat
            123D456   | lk_diplomat
            123T456   | lk_diplomat
            123Т4567  | lk_diplomat
            123D45    | unknown
            ''        | unknown
            А939НО19_ | unknown
            """)
    void classifiesEachTemplateInOrder(String plate, String label) {
        assertThat(PlateTemplate.of(plate).label()).isEqualTo(label);
    }

    @Test
    void latinLookAlikesAreNotCyrillicLetters() {
        // Latin A, O, H, B look like Cyrillic А, О, Н, В but are different characters.
        assertThat(PlateTemplate.of("A939HO196")).isEqualTo(PlateTemplate.UNKNOWN);
        assertThat(PlateTemplate.of("А939НО196")).isEqualTo(PlateTemplate.PRIVATE_CAR);
        assertThat(PlateTemplate.of("B154AY77")).isEqualTo(PlateTemplate.UNKNOWN);
    }

    @Test
    void latinTCountsOnlyWhereTheRecipeSaysSo() {
        assertThat(PlateTemplate.of("TАВ12345")).isEqualTo(PlateTemplate.EXPORT);   // Latin T, export
        assertThat(PlateTemplate.of("ТAB12345")).isEqualTo(PlateTemplate.UNKNOWN);  // Latin A, B are not letters
        assertThat(PlateTemplate.of("123T45")).isEqualTo(PlateTemplate.UNKNOWN);    // Latin T is not a letter for mvd
    }

    @Test
    void yoIsOutsideTheLetterRange() {
        assertThat(PlateTemplate.of("Ё939НО196")).isEqualTo(PlateTemplate.UNKNOWN);
        assertThat(PlateTemplate.of("Я939ЯЯ196")).isEqualTo(PlateTemplate.PRIVATE_CAR);
    }

    @Test
    void wholePlateMustMatchNotAPrefix() {
        assertThat(PlateTemplate.of("А939НО1967")).isEqualTo(PlateTemplate.UNKNOWN);
        assertThat(PlateTemplate.of(" А939НО196")).isEqualTo(PlateTemplate.UNKNOWN);
    }

    @Test
    void onlyAsciiDigitsAreDigits() {
        assertThat(PlateTemplate.of("А９３９НО196")).isEqualTo(PlateTemplate.UNKNOWN); // fullwidth digits
        assertThat(PlateTemplate.of("А٩٣٩НО196")).isEqualTo(PlateTemplate.UNKNOWN);   // Arabic-Indic digits
    }

    @Test
    void taxiLabelKeepsTheLeadingSpaceItWasTrainedWith() {
        assertThat(PlateTemplate.TAXI_TRAILER.label()).isEqualTo(" lk_taxi_r_pricep");
    }
}
