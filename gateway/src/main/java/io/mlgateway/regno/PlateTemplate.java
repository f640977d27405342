package io.mlgateway.regno;

import java.util.regex.Pattern;

/**
 * The plate format a recognition looks like, as the model was trained to see it. Letters are Cyrillic capitals
 * А–Я (Ё excluded, as in training), digits are 0–9. Patterns are tried in this order and must match the whole
 * plate: a prefix match would make "2 letters + 6–7 digits" unreachable behind "2 letters + 5–6 digits".
 * Labels are kept byte-for-byte as trained, including the leading space of {@code " lk_taxi_r_pricep"}.
 */
public enum PlateTemplate {
    PRIVATE_CAR("private car", "L\\d{3}L{2}\\d{2,3}"),
    TAXI_TRAILER(" lk_taxi_r_pricep", "L{2}\\d{5,6}"),
    TRAILER_TRANSIT("lk_pricep_r_transit", "L{2}\\d{6,7}"),
    MOTO_TRACTOR("lk_moto_tract", "\\d{4}L{2}\\d{2,3}"),
    SOME("some", "L\\d{4}L{2}"),
    TRANSIT("lk_transit", "L{2}\\d{3}L\\d{2,3}"),
    EXPORT("lk_export", "[ТT]L{2}\\d{5,6}"),
    POLICE_CAR("lk_mvd_avto", "L\\d{6,7}"),
    POLICE_MOTO("lk_mvd_moto", "\\d{4}L\\d{2,3}"),
    POLICE_TRAILER("lk_mvd_pricep", "\\d{3}L\\d{2,3}"),
    DIPLOMAT("lk_diplomat", "\\d{3}(?:CD|СD|D|T|Т)\\d{3,6}"),
    UNKNOWN("unknown", null);

    private final String label;
    private final Pattern pattern;

    PlateTemplate(String label, String shape) {
        this.label = label;
        // \d is spelled out as [0-9] so that other scripts' digits (Arabic-Indic, fullwidth…) never match.
        this.pattern = shape == null ? null
                : Pattern.compile(shape.replace("L", "[А-Я]").replace("\\d", "[0-9]"));
    }

    /** The categorical value the model was trained with. */
    public String label() {
        return label;
    }

    public static PlateTemplate of(String plate) {
        for (PlateTemplate template : values()) {
            if (template.pattern != null && template.pattern.matcher(plate).matches()) {
                return template;
            }
        }
        return UNKNOWN;
    }
}
