package io.mlgateway.rentals;

import static io.mlgateway.rentals.RentalsTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.TestModels;
import io.mlgateway.shared.testing.TcpProxy;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.modelstore.ModelSwapper;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Redis is only a cache: with it unreachable (the connection cut by a proxy in front of the real server),
 * predictions are still served, from PostgreSQL, with the right model.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = "management.server.port=0")
class RedisOutageTest {

    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private static final TcpProxy redisProxy = TcpProxy.start(LocalServices.redisPort());

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        RentalsTestSupport.properties(db).forEach((k, v) -> registry.add(k, () -> v));
        registry.add("spring.data.redis.url", () -> "redis://127.0.0.1:" + redisProxy.port());
    }

    @AfterAll
    static void closeProxy() {
        redisProxy.close();
    }

    @LocalServerPort
    int port;
    @Autowired
    RentalsReadiness readiness;
    @Autowired
    ModelRegistry registry;
    @Autowired
    ModelSwapper swapper;
    @Autowired
    MeterRegistry meters;


    @Test
    void predictionsAreServedWhileRedisIsDown() {
        await("rentals readiness", Duration.ofSeconds(90), readiness::isReady);
        List<BikeSharingData.Hour> hours = BikeSharingData.load();
        ModelRecord base = registry.current(ModelRegistry.BASE_USER).block();
        String user = "redis-down-" + UUID.randomUUID().toString().substring(0, 8);
        ModelRecord stored = registry.store(TestModels.continued(user, base, null, hours.subList(0, 50), 2), null)
                .block();

        redisProxy.cut();
        for (int i = 0; i < 20; i++) {
            String other = "redis-down-new-" + i + "-" + UUID.randomUUID().toString().substring(0, 6);
            assertThat(RentalsTestSupport.servedVersion(port, other, hours.get(i))).isEqualTo(base.version());
        }
        assertThat(RentalsTestSupport.servedVersion(port, user, hours.get(0))).isEqualTo(stored.version());
        assertThat(meters.get("gateway.modelstore.lookups").tag("tier", "redis").tag("result", "error").counter().count())
                .isPositive();

        // Back up: the cache is used again.
        double redisHitsBefore = meters.get("gateway.modelstore.lookups").tag("tier", "redis").tag("result", "hit")
                .counter().count();
        redisProxy.restore();
        swapper.swap(user, null, "test");
        await("redis hit after restore", Duration.ofSeconds(20), () -> {
            swapper.swap(user, null, "test");
            return RentalsTestSupport.servedVersion(port, user, hours.get(1)) == stored.version()
                    && meters.get("gateway.modelstore.lookups").tag("tier", "redis").tag("result", "hit").counter()
                            .count() > redisHitsBefore;
        });
    }
}
