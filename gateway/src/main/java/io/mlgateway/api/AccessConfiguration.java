package io.mlgateway.api;

import io.micrometer.core.instrument.MeterRegistry;
import io.mlgateway.access.ApiKeys;
import io.mlgateway.shared.lifecycle.SubscriptionLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import reactor.core.Disposable;
import reactor.core.scheduler.Schedulers;

/** The API's keys from {@link ApiProperties}, and the watch that re-reads their files. */
@Configuration(proxyBeanMethods = false)
public class AccessConfiguration {

    @Bean
    ApiKeys apiKeys(ApiProperties properties, MeterRegistry meters) {
        String prefix = ApiProperties.PREFIX;
        return new ApiKeys(
                new ApiKeys.Source(prefix + ".api-keys", properties.apiKeys(), prefix + ".key-file",
                        properties.keyFile()),
                new ApiKeys.Source(prefix + ".admin-keys", properties.adminKeys(), prefix + ".admin-key-file",
                        properties.adminKeyFile()),
                new ApiKeys.Limits(properties.defaultRateLimit(), properties.rateLimitBurst()),
                meters, System::nanoTime);
    }

    @Bean
    SubscriptionLifecycle keyFileWatch(ApiKeys keys, ApiProperties properties) {
        return new SubscriptionLifecycle() {
            @Override
            protected Disposable subscribe() {
                return keys.watch(properties.keyFileCheckInterval(), Schedulers.boundedElastic()).subscribe();
            }
        };
    }
}
