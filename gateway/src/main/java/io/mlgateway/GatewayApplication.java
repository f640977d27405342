package io.mlgateway;

import io.mlgateway.rentals.BaseModelCommand;
import io.mlgateway.shared.storage.StorageBeans;
import java.util.Arrays;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.context.annotation.Import;

/**
 * The scoring gateway: HTTP in, model scores out. {@code bootstrap-base-model} as first argument runs that command.
 * The storage connections are the shared ones ({@link StorageBeans}; all lazy, so the gateway starts and serves regno
 * with no database or cache running).
 */
@SpringBootApplication
@ConfigurationPropertiesScan
@Import(StorageBeans.class)
public class GatewayApplication {

    public static void main(String[] args) {
        if (args.length > 0 && BaseModelCommand.NAME.equals(args[0])) {
            System.exit(BaseModelCommand.run(Arrays.copyOfRange(args, 1, args.length)));
        }
        SpringApplication.run(GatewayApplication.class, args);
    }
}
