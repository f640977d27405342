package io.mlgateway.rentals;

import static io.mlgateway.rentals.RentalsTestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.modelstore.MemoryTier;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.modelstore.NewModel;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.TestModels;
import io.mlgateway.shared.training.BikeSharingData;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import javax.management.ObjectName;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Flux;

/**
 * What the tier counts for users with models as the update policy makes them (50 own trees of depth 6 fitted on
 * 4,000 hours) against what they really hold on the heap: the live heap measured by heap histograms (each a full
 * GC), before and after 1,500 such users are served and held. The two must agree within 10%: the tier's bound is
 * only a bound on memory if its count is the memory.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0", "gateway.model-cache.max-bytes=256MB", "gateway.model-cache.warm-up.users=0"})
class ModelMemoryAccountingTest {

    private static final int USERS = 1_500;
    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private static final List<BikeSharingData.Hour> YEAR_2012 = BikeSharingData.where(h -> !h.isYear2011());

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

    @Test
    void theTierCountsWhatTheHeapHolds() throws Exception {
        await("rentals readiness", Duration.ofSeconds(90), readiness::isReady);
        ModelRecord base = registry.current(ModelRegistry.BASE_USER).block();
        String prefix = "acct-" + UUID.randomUUID().toString().substring(0, 6) + "-";
        // One policy-sized model, stored for every user: each user's version is loaded and held on its own.
        NewModel model = TestModels.continued(prefix + 0, base, null, YEAR_2012.subList(2000, 6000), 50);
        Flux.range(0, USERS)
                .flatMap(i -> registry.store(new NewModel(prefix + i, model.parentVersion(), model.format(),
                        model.bytes(), model.numTrees(), model.baseVersion(), model.ownTrees(), model.metrics()), null), 8)
                .blockLast(Duration.ofMinutes(2));
        WebTestClient client = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port)
                .responseTimeout(Duration.ofSeconds(30)).build();
        String body = RentalsTestSupport.JSON.writeValueAsString(RentalsTestSupport.body(YEAR_2012.get(0)));
        // Code paths warmed (a user of its own and one on the base) before the first measure.
        serve(client, "acct-warm-up", body);
        serve(client, prefix + 0, body);

        long heapBefore = liveHeapBytes();
        long countedBefore = memory.weightedBytes();
        for (int i = 1; i < USERS; i++) {
            serve(client, prefix + i, body);
        }
        await("every user held", Duration.ofSeconds(10), () -> memory.size() >= USERS + 1);
        long heapAfter = liveHeapBytes();
        long counted = memory.weightedBytes() - countedBefore;
        long measured = heapAfter - heapBefore;
        System.out.printf("%d policy-sized users: the tier counts %,d bytes (%,d a user), the heap holds %,d more"
                + " (%,d a user)%n", USERS - 1, counted, counted / (USERS - 1), measured, measured / (USERS - 1));
        assertThat((double) measured).isCloseTo((double) counted, org.assertj.core.api.Assertions.withinPercentage(10));
        // The bound for such a user.
        assertThat(counted / (USERS - 1)).isLessThanOrEqualTo(30 * 1024);
    }

    private static void serve(WebTestClient client, String user, String body) {
        client.post().uri("/v1/rentals/" + user + "/predict").header("x-api-key", "rentals-test-key")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body).exchange().expectStatus().isOk();
    }

    /** The live heap after a full GC, as the class histogram totals it (what {@code jcmd GC.class_histogram} prints). */
    static long liveHeapBytes() throws Exception {
        String histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[] {new String[0]}, new String[] {String[].class.getName()});
        String[] lines = histogram.strip().split("\n");
        String[] total = lines[lines.length - 1].trim().split("\\s+");
        assertThat(total[0]).isEqualTo("Total");
        return Long.parseLong(total[2]);
    }
}
