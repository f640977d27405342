package io.mlgateway.shared.config;

import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;

/**
 * An instance of a configuration properties record with every value at its default, for code that builds one by
 * hand (tests, tools). The values are read from the record's {@code @DefaultValue} annotations by binding an empty
 * source, so a default is still written in one place only.
 */
public final class PropertyDefaults {

    private PropertyDefaults() {
    }

    /**
     * @throws org.springframework.boot.context.properties.bind.BindException if {@code type} refuses its defaults, as
     *                                                                       it does when a required value has none
     */
    public static <T> T of(Class<T> type) {
        return new Binder().bindOrCreate("defaults", Bindable.of(type));
    }
}
