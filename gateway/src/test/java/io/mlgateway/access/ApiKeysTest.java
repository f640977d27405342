package io.mlgateway.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.mlgateway.access.Admission.Outcome;
import io.mlgateway.access.ApiKeys.Role;
import io.mlgateway.shared.testing.KeyHashes;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import reactor.test.StepVerifier;
import reactor.test.scheduler.VirtualTimeScheduler;

class ApiKeysTest {

    @TempDir
    Path dir;

    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final AtomicLong clock = new AtomicLong(1_000_000_000_000L);

    private ApiKeys keys(List<String> client, Path clientFile, List<String> admin, Path adminFile, int defaultRate) {
        return new ApiKeys(new ApiKeys.Source("gateway.api.api-keys", client, "gateway.api.key-file", clientFile),
                new ApiKeys.Source("gateway.api.admin-keys", admin, "gateway.api.admin-key-file", adminFile),
                new ApiKeys.Limits(defaultRate, Duration.ofSeconds(1)), meters, clock::get);
    }

    private static String entry(String name, String key) {
        return name + " " + KeyHashes.sha256(key);
    }

    private Path file(String name, String... lines) throws IOException {
        return Files.writeString(dir.resolve(name), String.join("\n", lines) + "\n");
    }

    @Test
    void eachRoleAcceptsOnlyItsOwnKeys() {
        ApiKeys keys = keys(List.of(entry("team-a", "client-1"), entry("team-b", "client-2")), null,
                List.of(entry("ops", "admin-1")), null, 0);
        assertThat(keys.admit("client-1", Role.CLIENT)).extracting(Admission::outcome, Admission::keyName)
                .containsExactly(Outcome.ADMITTED, "team-a");
        assertThat(keys.admit("client-2", Role.CLIENT).keyName()).isEqualTo("team-b");
        assertThat(keys.admit("admin-1", Role.CLIENT).outcome()).isEqualTo(Outcome.INVALID);
        assertThat(keys.admit("client-1", Role.ADMIN).outcome()).isEqualTo(Outcome.INVALID);
        assertThat(keys.admit("admin-1", Role.ADMIN).outcome()).isEqualTo(Outcome.ADMITTED);
        assertThat(keys.admit(null, Role.CLIENT).outcome()).isEqualTo(Outcome.MISSING);
        assertThat(keys.admit("", Role.ADMIN).outcome()).isEqualTo(Outcome.MISSING);
        assertThat(keys.admit(KeyHashes.sha256("client-1"), Role.CLIENT).outcome())
                .as("the hash itself is not a key").isEqualTo(Outcome.INVALID);
        assertThat(keys.recognises("client-2", Role.CLIENT)).isTrue();
        assertThat(keys.recognises("admin-1", Role.CLIENT)).isFalse();
    }

    @Test
    void withoutAdminKeysModelOperationsAreDisabled() {
        ApiKeys keys = keys(List.of(entry("a", "k")), null, List.of(), null, 0);
        assertThat(keys.admit("k", Role.ADMIN).outcome()).isEqualTo(Outcome.DISABLED);
        assertThat(keys.admit(null, Role.ADMIN).outcome()).isEqualTo(Outcome.DISABLED);
    }

    @Test
    void aClientKeyCannotAlsoBeAnAdminKey() throws IOException {
        assertThatThrownBy(() -> keys(List.of(entry("a", "k")), null, List.of(entry("ops", "k")), null, 0))
                .hasMessageContaining("admin key ops has the same hash as client key a")
                .hasMessageContaining("must not roll models back");
        Path admin = file("admin", entry("ops", "admin-key"));
        ApiKeys keys = keys(List.of(entry("a", "k")), null, List.of(), admin, 0);
        file("admin", entry("ops", "admin-key"), entry("sneaky", "k"));
        assertThat(keys.reload()).isFalse();
        assertThat(keys.admit("k", Role.ADMIN).outcome()).isEqualTo(Outcome.INVALID);
        assertThat(keys.admit("admin-key", Role.ADMIN).outcome()).isEqualTo(Outcome.ADMITTED);
    }

    @Test
    void keysRotateThroughTheFileWithoutARestart() throws IOException {
        Path file = file("keys", "# team-a's key, issued 2026-11", entry("team-a-2026-11", "old-key"));
        ApiKeys keys = keys(List.of(entry("env", "env-key")), file, List.of(), null, 0);
        assertThat(keys.names(Role.CLIENT)).containsExactly("env", "team-a-2026-11");
        assertThat(keys.reload()).as("nothing changed").isFalse();

        file("keys", entry("team-a-2026-11", "old-key"), entry("team-a-2026-12", "new-key"));
        assertThat(keys.reload()).isTrue();
        assertThat(keys.admit("old-key", Role.CLIENT).admitted()).as("both active during the switch").isTrue();
        assertThat(keys.admit("new-key", Role.CLIENT).admitted()).isTrue();

        file("keys", entry("team-a-2026-12", "new-key"));
        assertThat(keys.reload()).isTrue();
        assertThat(keys.admit("old-key", Role.CLIENT).outcome()).isEqualTo(Outcome.INVALID);
        assertThat(keys.admit("new-key", Role.CLIENT).admitted()).isTrue();
        assertThat(keys.admit("env-key", Role.CLIENT).admitted()).as("configured keys stay").isTrue();
        assertThat(meters.get("gateway.api.key.reloads").tag("outcome", "changed").counter().count()).isEqualTo(2);
        assertThat(meters.get("gateway.api.keys").tag("role", "client").gauge().value()).isEqualTo(2);
    }

    @Test
    void aBrokenFileOnReloadKeepsThePreviousKeys() throws IOException {
        Path file = file("keys", entry("team-a", "key-a"));
        ApiKeys keys = keys(List.of(), file, List.of(), null, 0);
        file("keys", entry("team-a", "key-a"), "team-b plain-text-key");
        assertThat(keys.reload()).isFalse();
        Files.delete(file);
        assertThat(keys.reload()).isFalse();
        file("keys", "# all commented out");
        assertThat(keys.reload()).as("a file leaving no client key is refused").isFalse();
        assertThat(keys.admit("key-a", Role.CLIENT).admitted()).isTrue();
        assertThat(meters.get("gateway.api.key.reloads").tag("outcome", "failed").counter().count()).isEqualTo(3);
    }

    @Test
    void aBrokenOrMissingFileAtStartStopsStartUpNamingItsProperty() throws IOException {
        assertThatThrownBy(() -> keys(List.of(), dir.resolve("absent"), List.of(), null, 0))
                .hasMessageStartingWith("gateway.api.key-file: cannot read");
        Path file = file("keys", entry("a", "k"), "b plain-key");
        assertThatThrownBy(() -> keys(List.of(), file, List.of(), null, 0))
                .hasMessageContaining("gateway.api.key-file (" + file + ") line 2")
                .hasMessageNotContaining("plain-key");
        Path empty = file("empty", "");
        assertThatThrownBy(() -> keys(List.of(), empty, List.of(), null, 0))
                .hasMessageContaining("gateway.api.api-keys is required");
    }

    @Test
    void eachKeyHasItsOwnRateAndOverItIsToldHowLongToWait() {
        ApiKeys keys = keys(List.of(entry("slow", "slow-key") + " 2/s", entry("default", "default-key")), null,
                List.of(), null, 5);
        assertThat(keys.admit("slow-key", Role.CLIENT).admitted()).isTrue();
        assertThat(keys.admit("slow-key", Role.CLIENT).admitted()).isTrue();
        Admission limited = keys.admit("slow-key", Role.CLIENT);
        assertThat(limited).extracting(Admission::outcome, Admission::keyName, Admission::rateLimit)
                .containsExactly(Outcome.LIMITED, "slow", 2);
        assertThat(limited.retryAfterNanos()).isEqualTo(500_000_000L);
        assertThat(limited.retryAfterSeconds()).isEqualTo(1);
        for (int i = 0; i < 5; i++) {
            assertThat(keys.admit("default-key", Role.CLIENT).admitted()).as("the default rate, 5/s").isTrue();
        }
        assertThat(keys.admit("default-key", Role.CLIENT).outcome()).isEqualTo(Outcome.LIMITED);
        clock.addAndGet(500_000_000L);
        assertThat(keys.admit("slow-key", Role.CLIENT).admitted()).as("after waiting as told").isTrue();
    }

    @Test
    void aReloadKeepsTheRateStateOfUnchangedKeys() throws IOException {
        Path file = file("keys", entry("a", "key-a") + " 1/s", entry("b", "key-b") + " 1/s");
        ApiKeys keys = keys(List.of(), file, List.of(), null, 0);
        assertThat(keys.admit("key-a", Role.CLIENT).admitted()).isTrue();
        assertThat(keys.admit("key-b", Role.CLIENT).admitted()).isTrue();
        file("keys", entry("a", "key-a") + " 1/s", entry("b", "key-b") + " 3/s", entry("c", "key-c"));
        assertThat(keys.reload()).isTrue();
        assertThat(keys.admit("key-a", Role.CLIENT).outcome()).as("a reload is no way around a limit")
                .isEqualTo(Outcome.LIMITED);
        assertThat(keys.admit("key-b", Role.CLIENT).admitted()).as("a new rate starts afresh").isTrue();
    }

    @Test
    void theWatchReReadsTheFilesOnItsInterval() throws IOException {
        Path file = file("keys", entry("a", "key-a"));
        ApiKeys keys = keys(List.of(), file, List.of(), null, 0);
        StepVerifier.withVirtualTime(() -> keys.watch(Duration.ofSeconds(10), VirtualTimeScheduler.get()))
                .expectSubscription()
                .expectNoEvent(Duration.ofSeconds(9))
                .then(() -> write(file, entry("a", "key-a") + "\n" + entry("b", "key-b")))
                .thenAwait(Duration.ofSeconds(1))
                .expectNext(true)
                .then(() -> assertThat(keys.admit("key-b", Role.CLIENT).admitted()).isTrue())
                .thenAwait(Duration.ofSeconds(10))
                .expectNext(false)
                .thenCancel()
                .verify(Duration.ofSeconds(10));
        assertThat(keys(List.of(entry("a", "k")), null, List.of(), null, 0)
                .watch(Duration.ofSeconds(1), VirtualTimeScheduler.getOrSet())).as("no file, no watch")
                .isSameAs(reactor.core.publisher.Flux.empty());
    }

    private static void write(Path file, String text) {
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
