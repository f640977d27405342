package io.mlgateway.rentals;

import io.mlgateway.shared.inferencelog.PredictionPartitions;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.storage.DatabaseProperties;
import io.mlgateway.shared.storage.StorageBeans;
import java.time.Duration;
import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.r2dbc.core.DatabaseClient;

/**
 * {@code java -jar gateway.jar bootstrap-base-model}: applies the schema migrations and trains and stores the base
 * model if the registry has none, then exits (0 on success). Uses the same configuration as the gateway
 * (SPRING_R2DBC_URL, SPRING_R2DBC_PASSWORD, …). Safe to run while gateways start: it is the same idempotent,
 * lock-guarded step they run.
 */
public final class BaseModelCommand {

    public static final String NAME = "bootstrap-base-model";

    private BaseModelCommand() {
    }

    public static int run(String[] args) {
        try (ConfigurableApplicationContext context = new SpringApplicationBuilder(CommandConfiguration.class)
                .web(WebApplicationType.NONE).bannerMode(Banner.Mode.OFF).run(args)) {
            RentalsReadiness.prepareStore(context.getBean(DatabaseProperties.class), context.getBean(ModelRegistry.class),
                    new PredictionPartitions(context.getBean(DatabaseClient.class)))
                    .block(Duration.ofMinutes(5));
            return 0;
        } catch (RuntimeException e) {
            System.err.println("bootstrap-base-model failed: " + e.getMessage());
            return 1;
        }
    }

    @Configuration(proxyBeanMethods = false)
    @Import(StorageBeans.class)
    static class CommandConfiguration {
    }
}
