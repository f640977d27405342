package io.mlgateway.retrain;

import io.mlgateway.shared.testing.LocalServices;
import java.util.ArrayList;
import java.util.List;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/** The retrainer started in-process against the local services, a test schema and a random port. */
public final class RetrainerApps {

    private RetrainerApps() {
    }

    /** @param settings more {@code --name=value} arguments; as command-line arguments they outrank application.yml */
    public static ConfigurableApplicationContext start(LocalServices.TestDatabase db, String... settings) {
        List<String> args = new ArrayList<>(List.of(
                "--spring.r2dbc.url=" + db.r2dbcUrl(),
                "--spring.r2dbc.username=" + db.user(),
                "--spring.r2dbc.password=" + db.password(),
                "--spring.data.redis.url=" + LocalServices.redisUri(),
                "--spring.kafka.bootstrap-servers=" + LocalServices.kafkaBootstrap(),
                "--server.port=0"));
        args.addAll(List.of(settings));
        return new SpringApplicationBuilder(RetrainerApplication.class).run(args.toArray(String[]::new));
    }
}
