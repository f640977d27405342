package io.mlgateway.shared.config;

import java.time.Duration;
import java.util.Collection;
import org.springframework.util.unit.DataSize;

/**
 * The one way a configuration properties class refuses a value: its compact constructor calls these checks, each
 * of which throws an {@link IllegalArgumentException} whose message starts with the full key and ends with the
 * value given, e.g. {@code gateway.rentals.max-batch-size must be at least 1, was -5}. Spring Boot then fails
 * start-up with that message as the reason the properties could not be bound.
 *
 * <p>Defaults are not handled here: a key's default is its {@code @DefaultValue} and nowhere else. A compact
 * constructor never turns an invalid or missing value into a default.
 */
public final class PropertyChecks {

    private PropertyChecks() {
    }

    /** Fails with "{@code key} {@code rule}" unless {@code valid}. */
    public static void check(boolean valid, String key, String rule) {
        if (!valid) {
            throw new IllegalArgumentException(key + " " + rule);
        }
    }

    public static void required(String key, Object value) {
        check(value != null, key, "is required");
    }

    public static void notBlank(String key, String value) {
        check(value != null && !value.isBlank(), key, "must not be blank, was " + quoted(value));
    }

    public static void notEmpty(String key, Collection<?> values) {
        check(values != null && !values.isEmpty(), key, "must not be empty");
    }

    public static void atLeast(String key, long value, long min) {
        check(value >= min, key, "must be at least " + min + ", was " + value);
    }

    public static void between(String key, long value, long min, long max) {
        check(value >= min && value <= max, key, "must be between " + min + " and " + max + ", was " + value);
    }

    /** {@code min <= value <= max}. */
    public static void between(String key, double value, double min, double max) {
        check(value >= min && value <= max, key, "must be between " + min + " and " + max + ", was " + value);
    }

    /** {@code min < value < max}. */
    public static void strictlyBetween(String key, double value, double min, double max) {
        check(value > min && value < max, key, "must be above " + min + " and below " + max + ", was " + value);
    }

    public static void positive(String key, double value) {
        check(value > 0 && Double.isFinite(value), key, "must be positive, was " + value);
    }

    public static void notNegative(String key, double value) {
        check(value >= 0 && Double.isFinite(value), key, "must not be negative, was " + value);
    }

    public static void positive(String key, Duration value) {
        required(key, value);
        check(!value.isNegative() && !value.isZero(), key, "must be positive, was " + value);
    }

    public static void notNegative(String key, Duration value) {
        required(key, value);
        check(!value.isNegative(), key, "must not be negative, was " + value);
    }

    public static void positive(String key, DataSize value) {
        required(key, value);
        check(value.toBytes() > 0, key, "must be positive, was " + value);
    }

    /**
     * Runs a check that another class owns (a constructor that validates its arguments), naming the key in front
     * of its message when it refuses the value.
     */
    public static void accepted(String key, Runnable check) {
        try {
            check.run();
        } catch (IllegalArgumentException e) {
            // Not chained: Boot's start-up report gives the innermost cause, which must name the key.
            throw new IllegalArgumentException(key + ": " + e.getMessage());
        }
    }

    private static String quoted(String value) {
        return value == null ? "null" : "\"" + value + "\"";
    }
}
