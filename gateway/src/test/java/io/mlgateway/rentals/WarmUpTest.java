package io.mlgateway.rentals;

import static io.mlgateway.rentals.RentalsTestSupport.JSON;
import static io.mlgateway.rentals.RentalsTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.mlgateway.GatewayApplication;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.TestModels;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.modelstore.MemoryTier;
import io.mlgateway.modelstore.RecentUsers;
import io.mlgateway.modelstore.ServedModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.web.server.context.WebServerApplicationContext;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;

/**
 * Readiness means "can score now": an instance serves users, publishes them as recently active, and a second
 * instance starting afterwards reports ready only once it holds those users' models, before any of them asks.
 */
class WarmUpTest {

    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private static final List<ConfigurableApplicationContext> started = new ArrayList<>();

    @AfterAll
    static void stop() {
        started.forEach(ConfigurableApplicationContext::close);
    }

    private static ConfigurableApplicationContext start() {
        return start(Map.of());
    }

    private static ConfigurableApplicationContext start(Map<String, Object> more) {
        Map<String, Object> properties = new HashMap<>(RentalsTestSupport.properties(db));
        properties.putAll(more);
        properties.put("server.port", 0);
        properties.put("management.server.port", 0);
        properties.put("gateway.model-cache.warm-up.publish-interval", "500ms");
        ConfigurableApplicationContext context = new SpringApplicationBuilder(GatewayApplication.class)
                .run(properties.entrySet().stream().map(e -> "--" + e.getKey() + "=" + e.getValue()).toArray(String[]::new));
        started.add(context);
        return context;
    }

    private static int port(ConfigurableApplicationContext context) {
        return ((WebServerApplicationContext) context).getWebServer().getPort();
    }

    private static JsonNode readiness(ConfigurableApplicationContext context) {
        int management = Integer.parseInt(context.getEnvironment().getProperty("local.management.port"));
        byte[] body = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + management).build()
                .get().uri("/actuator/health/readiness").exchange().expectBody().returnResult().getResponseBody();
        return JSON.readTree(body);
    }

    @Test
    void aStartingInstanceIsReadyOnlyOnceTheRecentlyActiveUsersAreInMemory() throws Exception {
        ConfigurableApplicationContext first = start();
        await("first instance ready", Duration.ofSeconds(90), () -> first.getBean(RentalsReadiness.class).isReady());
        assertThat(readiness(first).path("status").stringValue()).isEqualTo("UP");
        assertThat(readiness(first).path("components").path("rentals").path("details").path("phase").stringValue())
                .isEqualTo("ready");

        ModelRegistry registry = first.getBean(ModelRegistry.class);
        ModelRecord base = registry.current(ModelRegistry.BASE_USER).block();
        List<BikeSharingData.Hour> hours = BikeSharingData.where(h -> !h.isYear2011());
        List<String> users = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            String user = "warm-" + i + "-" + UUID.randomUUID().toString().substring(0, 6);
            if (i % 3 != 0) { // two in three with a model of their own, the rest on the base
                registry.store(TestModels.continued(user, base, null, hours.subList(40 * i, 40 * i + 40), 2), null).block();
            }
            RentalsTestSupport.servedVersion(port(first), user, hours.get(i));
            users.add(user);
        }
        // Published to Redis within the publish interval, each with when it was served.
        RedisClient client = RedisClient.create(LocalServices.redisUri());
        try (StatefulRedisConnection<String, String> redis = client.connect()) {
            await("recent users published", Duration.ofSeconds(10), () -> users.stream()
                    .allMatch(u -> redis.sync().zscore(RecentUsers.KEY, u) != null));
            double score = redis.sync().zscore(RecentUsers.KEY, users.get(0));
            assertThat(System.currentTimeMillis() - score).isBetween(0.0, 60_000.0);
        } finally {
            client.shutdown();
        }

        ConfigurableApplicationContext second = start();
        await("second instance ready", Duration.ofSeconds(90), () -> second.getBean(RentalsReadiness.class).isReady());
        RentalsReadiness.WarmUp warmUp = second.getBean(RentalsReadiness.class).lastWarmUp();
        assertThat(warmUp.timedOut()).isFalse();
        assertThat(warmUp.loaded()).isGreaterThanOrEqualTo(users.size());
        // Every one of them is in memory, with the version it is served, before it sent the second instance anything.
        Map<String, ServedModel> inMemory = second.getBean(MemoryTier.class).models();
        for (String user : users) {
            assertThat(inMemory).containsKey(user);
            Long own = registry.headVersions(List.of(user)).block().get(user);
            assertThat(inMemory.get(user).version()).isEqualTo(own != null ? own : base.version());
        }
        JsonNode details = readiness(second).path("components").path("rentals").path("details");
        assertThat(details.path("phase").stringValue()).isEqualTo("ready");
        assertThat(details.path("warmUp").path("loaded").longValue()).isEqualTo(warmUp.loaded());
    }

    /**
     * Behind a balancer that routes by user, each instance warms the users it served itself: a restarted instance
     * loads its own users, none of another instance's (and none of the fleet's shared set).
     */
    @Test
    void aNamedInstanceWarmsTheUsersItServedItself() {
        String run = UUID.randomUUID().toString().substring(0, 6);
        Map<String, Object> a = Map.of("gateway.model-cache.warm-up.instance", "gw-a-" + run);
        Map<String, Object> b = Map.of("gateway.model-cache.warm-up.instance", "gw-b-" + run);
        ConfigurableApplicationContext first = start(a);
        ConfigurableApplicationContext other = start(b);
        await("both ready", Duration.ofSeconds(90), () -> first.getBean(RentalsReadiness.class).isReady()
                && other.getBean(RentalsReadiness.class).isReady());
        List<BikeSharingData.Hour> hours = BikeSharingData.where(h -> !h.isYear2011());
        List<String> mine = new ArrayList<>();
        List<String> theirs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            String user = "own-" + run + "-" + i;
            RentalsTestSupport.servedVersion(port(i % 2 == 0 ? first : other), user, hours.get(i));
            (i % 2 == 0 ? mine : theirs).add(user);
        }
        RedisClient client = RedisClient.create(LocalServices.redisUri());
        try (StatefulRedisConnection<String, String> redis = client.connect()) {
            await("each instance published its own users", Duration.ofSeconds(10), () ->
                    mine.stream().allMatch(u -> redis.sync().zscore(RecentUsers.key("gw-a-" + run), u) != null)
                            && theirs.stream().allMatch(u -> redis.sync().zscore(RecentUsers.key("gw-b-" + run), u) != null));
            assertThat(theirs).noneMatch(u -> redis.sync().zscore(RecentUsers.key("gw-a-" + run), u) != null);
            assertThat(mine).noneMatch(u -> redis.sync().zscore(RecentUsers.KEY, u) != null);
        } finally {
            client.shutdown();
        }
        first.close();

        ConfigurableApplicationContext restarted = start(a);
        await("restarted instance ready", Duration.ofSeconds(90),
                () -> restarted.getBean(RentalsReadiness.class).isReady());
        RentalsReadiness.WarmUp warmUp = restarted.getBean(RentalsReadiness.class).lastWarmUp();
        assertThat(warmUp.recentUsers()).isEqualTo(mine.size());
        assertThat(warmUp.loaded()).isEqualTo(mine.size());
        Map<String, ServedModel> inMemory = restarted.getBean(MemoryTier.class).models();
        assertThat(inMemory.keySet()).containsExactlyInAnyOrderElementsOf(mine);
    }
}
