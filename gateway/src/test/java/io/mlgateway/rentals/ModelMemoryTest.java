package io.mlgateway.rentals;

import static io.mlgateway.rentals.RentalsTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.MeterRegistry;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.TestModels;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.shared.trees.TreeModel;
import io.mlgateway.modelstore.ModelLoader;
import io.mlgateway.modelstore.MemoryTier;
import io.mlgateway.modelstore.ServedModel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The memory tier counts what users really cost: a user with a model of its own weighs its own trees (compact) plus
 * an entry, a user served the base weighs an entry, and the base model they all build on is held once and counted
 * once, apart (compact for scoring, stored form for explanations). The tier stays within {@code max-bytes} by
 * dropping users, who are read again when they come back. ModelMemoryAccountingTest holds the count against a heap
 * histogram.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0", "gateway.model-cache.max-bytes=64KB", "gateway.model-cache.warm-up.users=0"})
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ModelMemoryTest {

    private static final long ENTRY = MemoryTier.ENTRY_BYTES;
    private static final long MAX_BYTES = 64 * 1024;
    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private static final List<BikeSharingData.Hour> HOURS = BikeSharingData.where(h -> !h.isYear2011());

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        RentalsTestSupport.properties(db).forEach((k, v) -> registry.add(k, () -> v));
    }

    @LocalServerPort
    int port;
    @Autowired
    RentalsReadiness readiness;
    @Autowired
    ModelRegistry registry;
    @Autowired
    MemoryTier memory;
    @Autowired
    ModelLoader loader;
    @Autowired
    MeterRegistry meters;

    @BeforeEach
    void ready() {
        await("rentals readiness", Duration.ofSeconds(90), readiness::isReady);
    }

    private double memory(String part) {
        return meters.get("gateway.modelstore.memory.bytes").tag("part", part).gauge().value();
    }

    private List<String> usersWithOwnModels(String prefix, int count) {
        ModelRecord base = registry.current(ModelRegistry.BASE_USER).block();
        List<String> users = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String user = prefix + "-" + i + "-" + UUID.randomUUID().toString().substring(0, 6);
            registry.store(TestModels.continued(user, base, null, HOURS.subList(50 * i, 50 * i + 50), 3), null).block();
            users.add(user);
        }
        return users;
    }

    @Test
    @Order(1)
    void usersWeighTheirOwnTreesAndTheSharedBaseIsCountedOnce() {
        List<String> own = usersWithOwnModels("mem-own", 10);
        List<String> onBase = List.of("mem-base-1", "mem-base-2", "mem-base-3", "mem-base-4", "mem-base-5");
        for (String user : own) {
            RentalsTestSupport.servedVersion(port, user, HOURS.get(0));
        }
        for (String user : onBase) {
            RentalsTestSupport.servedVersion(port, user, HOURS.get(0));
        }

        ServedModel base = loader.loadedBase();
        long expected = ENTRY * onBase.size();
        for (String user : own) {
            ServedModel model = memory.models().get(user);
            assertThat(model.base()).isFalse();
            // The user's model references the base held in memory, it does not copy it.
            assertThat(model.scoring().base()).isSameAs(base.scoring());
            assertThat(model.scoring().ownTrees().trees()).isEqualTo(3);
            expected += ENTRY + model.ownFootprintBytes();
        }
        for (String user : onBase) {
            assertThat(memory.models().get(user)).isSameAs(base);
        }
        long users = expected;
        await("the users' weight settles", Duration.ofSeconds(5), () -> memory("users") == users);
        TreeModel baseTrees = registry.current(ModelRegistry.BASE_USER).block().model();
        assertThat(memory("bases")).isEqualTo((double) (base.ownFootprintBytes() + baseTrees.trees().footprintBytes()));
        // 10 users with 3 trees each cost a small fraction of one copy of the 200-tree base.
        assertThat((double) users).isLessThan(base.ownFootprintBytes() / 2.0);
    }

    @Test
    @Order(2)
    void theTierStaysWithinMaxBytesAndDroppedUsersAreReadAgain() {
        List<String> own = usersWithOwnModels("mem-many", 150);
        for (String user : own) {
            RentalsTestSupport.servedVersion(port, user, HOURS.get(1));
        }
        await("evictions", Duration.ofSeconds(5),
                () -> meters.get("gateway.modelstore.evictions").tag("cause", "size").counter().count() > 0);
        assertThat(memory("users")).isLessThanOrEqualTo(MAX_BYTES);
        assertThat(meters.get("gateway.modelstore.memory.limit.bytes").gauge().value()).isEqualTo((double) MAX_BYTES);
        // A dropped user is loaded again on its next request and served its own model.
        String dropped = own.stream().filter(u -> !memory.models().containsKey(u)).findFirst().orElseThrow();
        long version = registry.current(dropped).block().version();
        assertThat(RentalsTestSupport.servedVersion(port, dropped, HOURS.get(2))).isEqualTo(version);
    }
}
