package io.mlgateway.rentals;

import static io.mlgateway.rentals.RentalsTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.TestModels;
import io.mlgateway.shared.training.BikeSharingData;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Kafka unreachable (the gateway points at a closed port): the periodic version check alone swaps a user to the
 * new version within its interval, and the old model is never served past that.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0", "gateway.model-cache.version-check-interval=1s"})
class VersionCheckTest {

    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) throws IOException {
        RentalsTestSupport.properties(db).forEach((k, v) -> registry.add(k, () -> v));
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        registry.add("spring.kafka.bootstrap-servers", () -> "127.0.0.1:" + closedPort);
    }

    @LocalServerPort
    int port;
    @Autowired
    RentalsReadiness readiness;
    @Autowired
    ModelRegistry registry;
    @Autowired
    MeterRegistry meters;


    @Test
    void staleModelsAreSwappedWithinTheCheckIntervalWithoutKafka() {
        await("rentals readiness", Duration.ofSeconds(90), readiness::isReady);
        List<BikeSharingData.Hour> hours = BikeSharingData.load();
        String user = "stale-" + UUID.randomUUID().toString().substring(0, 8);
        ModelRecord base = registry.current(ModelRegistry.BASE_USER).block();
        assertThat(RentalsTestSupport.servedVersion(port, user, hours.get(0))).isEqualTo(base.version());

        ModelRecord v1 = registry.store(TestModels.continued(user, base, null, hours.subList(0, 50), 2), null).block();
        await("own model served after the check", Duration.ofSeconds(10), () -> RentalsTestSupport.servedVersion(port, user, hours.get(1)) == v1.version());

        ModelRecord v2 = registry.store(TestModels.continued(user, base, v1, hours.subList(50, 100), 2), v1.version())
                .block();
        // Redis still holds v1 (nobody deleted it): the check must not let that stale copy back in.
        await("newer model served after the check", Duration.ofSeconds(10), () -> RentalsTestSupport.servedVersion(port, user, hours.get(2)) == v2.version());
        assertThat(meters.get("gateway.modelstore.swaps").tag("trigger", "version-check").counter().count())
                .isGreaterThanOrEqualTo(2);
    }
}
