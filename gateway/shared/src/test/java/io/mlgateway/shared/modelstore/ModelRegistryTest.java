package io.mlgateway.shared.modelstore;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.Registries;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import reactor.test.StepVerifier;

/** On the real PostgreSQL. */
class ModelRegistryTest {

    private static ModelRegistry registry;

    @BeforeAll
    static void schema() {
        registry = Registries.over(LocalServices.freshDatabase().connectionFactory());
    }

    private static NewModel model(String user, Long parent, int trees) {
        return new NewModel(user, parent, ModelFormat.TREES, new byte[] {1, 2, (byte) trees}, trees, null, trees,
                "{\"mae\": 1.5}");
    }

    @Test
    void storesVersionsAndServesTheHead() {
        ModelRecord first = registry.store(model("alice", null, 10), null).block(Duration.ofSeconds(10));
        ModelRecord second = registry.store(model("alice", first.version(), 12), first.version()).block(Duration.ofSeconds(10));
        assertThat(second.version()).isGreaterThan(first.version());

        ModelRecord head = registry.current("alice").block(Duration.ofSeconds(10));
        assertThat(head.version()).isEqualTo(second.version());
        assertThat(head.parentVersion()).isEqualTo(first.version());
        assertThat(head.bytes()).containsExactly(1, 2, 12);
        assertThat(head.numTrees()).isEqualTo(12);
        assertThat(head.metrics()).contains("\"mae\": 1.5");
        assertThat(head.createdAt()).isNotNull();
        assertThat(registry.currentMetadata("alice").block().bytes()).isEmpty();
    }

    @Test
    void aStaleWriterCannotReplaceANewerModel() {
        ModelRecord v1 = registry.store(model("bob", null, 1), null).block();
        ModelRecord v2 = registry.store(model("bob", v1.version(), 2), v1.version()).block();
        // A writer that still believes v1 is current loses, and stores nothing.
        StepVerifier.create(registry.store(model("bob", v1.version(), 3), v1.version()))
                .expectError(StaleModelException.class)
                .verify(Duration.ofSeconds(10));
        // Neither may a writer that believes bob has no model yet.
        StepVerifier.create(registry.store(model("bob", null, 4), null))
                .expectError(StaleModelException.class)
                .verify(Duration.ofSeconds(10));
        assertThat(registry.current("bob").block().version()).isEqualTo(v2.version());
        assertThat(registry.headVersions(List.of("bob")).block()).containsExactly(Map.entry("bob", v2.version()));
    }

    @Test
    void aLayeredModelKeepsItsBaseAndOwnTreesAndIsFoundByVersion() {
        ModelRecord base = registry.store(model("_base-layer-test", null, 200), null).block();
        NewModel layered = new NewModel("dave", base.version(), ModelFormat.TREES, new byte[] {9}, 210, base.version(), 10,
                "{}");
        ModelRecord stored = registry.store(layered, null).block();
        ModelRecord read = registry.version(stored.version()).block();
        assertThat(read.baseVersion()).isEqualTo(base.version());
        assertThat(read.ownTrees()).isEqualTo(10);
        assertThat(read.numTrees()).isEqualTo(210);
        assertThat(registry.version(base.version()).block().baseVersion()).isNull();
        StepVerifier.create(registry.version(Long.MAX_VALUE)).verifyComplete();

        ModelRecord erin = registry.store(model("erin", null, 3), null).block();
        assertThat(registry.current(List.of("dave", "erin", "nobody")).collectList().block())
                .extracting(ModelRecord::userId, ModelRecord::version)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("dave", stored.version()),
                        org.assertj.core.groups.Tuple.tuple("erin", erin.version()));
        StepVerifier.create(registry.current(List.of())).verifyComplete();
    }

    @Test
    void usersWithoutAModelHaveNoHead() {
        StepVerifier.create(registry.current("nobody")).verifyComplete();
        assertThat(registry.headVersions(List.of("nobody", "carol")).block()).isEmpty();
        assertThat(registry.headVersions(List.of()).block()).isEmpty();
    }
}
