package io.mlgateway.access;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;

/**
 * The keys that may call the API, by role, and each key's rate limit.
 *
 * <p>Keys come from two sources per role: entries in the configuration (fixed for the life of the process) and an
 * optional key file, re-read by {@link #watch} so that keys are added and retired without a restart: add the new
 * key's line, move clients to it, delete the old line. A file that fails to parse on reload changes nothing (the
 * previous keys stay active) and is counted and logged, without its content. A key keeps its rate-limit state
 * across reloads as long as its line does not change.
 *
 * <p>A presented key is hashed once and looked up by its hash. The lookup's timing can only tell an attacker about
 * the SHA-256 of what they sent, which does not help them find a key.
 */
public final class ApiKeys {

    /** Who a key is for. */
    /** Where a client presents its key: the HTTP header, and the gRPC metadata key. */
    public static final String CLIENT_HEADER = "x-api-key";

    public enum Role {
        /** Scoring, actuals, metadata: the x-api-key header. */
        CLIENT,
        /** Model operations (promotion, rollback): the x-admin-key header. */
        ADMIN
    }

    /** Where one role's keys come from. */
    public record Source(String property, List<String> entries, String fileProperty, Path file) {
    }

    /** The settings every key shares. */
    public record Limits(int defaultRateLimit, Duration burst) {
    }

    private static final Logger log = LoggerFactory.getLogger(ApiKeys.class);

    private final Map<Role, Source> sources;
    private final Limits limits;
    private final LongSupplier nanoTime;
    private final Counter reloaded;
    private final Counter reloadFailed;
    private volatile State state;

    /** Loads every source; a broken one fails here, naming its property, so the process does not start. */
    public ApiKeys(Source client, Source admin, Limits limits, MeterRegistry meters, LongSupplier nanoTime) {
        this.sources = new EnumMap<>(Map.of(Role.CLIENT, client, Role.ADMIN, admin));
        this.limits = limits;
        this.nanoTime = nanoTime;
        this.state = load(State.EMPTY);
        if (state.keys.get(Role.CLIENT).isEmpty()) {
            throw new IllegalArgumentException(client.property() + " is required: set GATEWAY_API_KEYS "
                    + "(comma-separated '" + KeyEntry.FORMAT + "') or a key file (" + client.fileProperty()
                    + "), or run with the 'local' profile");
        }
        for (Role role : Role.values()) {
            Gauge.builder("gateway.api.keys", this, k -> k.state.keys.get(role).size())
                    .description("keys accepted now").tag("role", role.name().toLowerCase(java.util.Locale.ROOT))
                    .register(meters);
        }
        this.reloaded = Counter.builder("gateway.api.key.reloads").tag("outcome", "changed")
                .description("key files re-read with a change applied, or refused").register(meters);
        this.reloadFailed = Counter.builder("gateway.api.key.reloads").tag("outcome", "failed").register(meters);
    }

    /** Decides on one request's key for {@code role}; an admitted request counts against the key's rate. */
    public Admission admit(String presented, Role role) {
        Map<ByteBuffer, Key> keys = state.keys.get(role);
        if (keys.isEmpty()) {
            return Admission.DISABLED;
        }
        if (presented == null || presented.isEmpty()) {
            return Admission.MISSING;
        }
        Key key = keys.get(ByteBuffer.wrap(KeyEntry.hashOf(presented)));
        if (key == null) {
            return Admission.INVALID;
        }
        if (key.limit == null) {
            return key.admitted;
        }
        long wait = key.limit.tryAcquire(nanoTime.getAsLong());
        return wait == 0 ? key.admitted
                : new Admission(Admission.Outcome.LIMITED, key.entry.name(), wait, key.limit.rate());
    }

    /** True when {@code presented} is one of the role's keys; no rate is counted. */
    public boolean recognises(String presented, Role role) {
        return presented != null && !presented.isEmpty()
                && state.keys.get(role).containsKey(ByteBuffer.wrap(KeyEntry.hashOf(presented)));
    }

    /** The names of the role's keys now (for logs and tests; names are not secrets). */
    public List<String> names(Role role) {
        return state.keys.get(role).values().stream().map(k -> k.entry.name()).sorted().toList();
    }

    /**
     * Re-reads the key files every {@code interval} on {@code scheduler} (file reads block: never an event loop),
     * emitting true for each reload that changed the keys. Empty when no role has a key file.
     */
    public Flux<Boolean> watch(Duration interval, Scheduler scheduler) {
        if (sources.values().stream().allMatch(s -> s.file() == null)) {
            return Flux.empty();
        }
        return Flux.interval(interval, interval, scheduler)
                .onBackpressureDrop()
                .concatMap(tick -> Mono.fromCallable(this::reload).subscribeOn(scheduler), 1);
    }

    /** Re-reads the key files now; true when the keys changed, false when nothing did or the files were refused. */
    public boolean reload() {
        State previous = state;
        State next;
        try {
            next = load(previous);
        } catch (RuntimeException e) {
            reloadFailed.increment();
            log.error("key file refused, the previous keys stay active: {}", e.getMessage());
            return false;
        }
        if (next.files.equals(previous.files)) {
            return false;
        }
        if (next.keys.get(Role.CLIENT).isEmpty()) {
            reloadFailed.increment();
            log.error("key file refused, the previous keys stay active: it would leave no client key");
            return false;
        }
        state = next;
        reloaded.increment();
        log.atInfo().addKeyValue("client_keys", names(Role.CLIENT)).addKeyValue("admin_keys", names(Role.ADMIN))
                .log("keys reloaded: {} client, {} admin", next.keys.get(Role.CLIENT).size(),
                        next.keys.get(Role.ADMIN).size());
        return true;
    }

    private State load(State previous) {
        Map<Role, String> files = new EnumMap<>(Role.class);
        Map<Role, List<KeyEntry>> entries = new EnumMap<>(Role.class);
        for (Role role : Role.values()) {
            Source source = sources.get(role);
            List<KeyEntry> list = new ArrayList<>();
            for (int i = 0; i < source.entries().size(); i++) {
                list.add(KeyEntry.parse(source.entries().get(i), source.property() + "[" + i + "]"));
            }
            if (source.file() != null) {
                String text = read(source);
                files.put(role, text);
                String[] lines = text.split("\n", -1);
                for (int i = 0; i < lines.length; i++) {
                    String line = lines[i].strip();
                    if (!line.isEmpty() && !line.startsWith("#")) {
                        list.add(KeyEntry.parse(line, source.fileProperty() + " (" + source.file() + ") line " + (i + 1)));
                    }
                }
            }
            entries.put(role, list);
        }
        if (previous != State.EMPTY && files.equals(previous.files)) {
            return previous;
        }
        return new State(files, index(entries, previous));
    }

    private Map<Role, Map<ByteBuffer, Key>> index(Map<Role, List<KeyEntry>> entries, State previous) {
        Map<ByteBuffer, String> owner = new HashMap<>();
        Map<Role, Map<ByteBuffer, Key>> keys = new EnumMap<>(Role.class);
        for (Role role : Role.values()) {
            Map<ByteBuffer, Key> byHash = new HashMap<>();
            for (KeyEntry entry : entries.get(role)) {
                ByteBuffer hash = ByteBuffer.wrap(entry.hash());
                String other = owner.putIfAbsent(hash, role + " key " + entry.name());
                if (other != null) {
                    throw new IllegalArgumentException(role.name().toLowerCase(java.util.Locale.ROOT) + " key "
                            + entry.name() + " has the same hash as " + other.toLowerCase(java.util.Locale.ROOT)
                            + (role == Role.ADMIN && other.startsWith("CLIENT")
                                    ? ": a client key must not roll models back" : ""));
                }
                int rate = entry.rateLimit() > 0 ? entry.rateLimit() : limits.defaultRateLimit();
                Key kept = previous.keys.getOrDefault(role, Map.of()).get(hash);
                byHash.put(hash, kept != null && kept.entry.equals(entry) ? kept : new Key(entry, rate, limits.burst()));
            }
            keys.put(role, Map.copyOf(byHash));
        }
        return keys;
    }

    private static String read(Source source) {
        try {
            return Files.readString(source.file(), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(source.fileProperty() + ": cannot read " + source.file() + " ("
                    + e.getClass().getSimpleName() + ")");
        }
    }

    /** One accepted key: its entry, its limit (null = unlimited) and its admission, built once. */
    private static final class Key {
        final KeyEntry entry;
        final RateLimit limit;
        final Admission admitted;

        Key(KeyEntry entry, int rate, Duration burst) {
            this.entry = entry;
            this.limit = rate > 0 ? new RateLimit(rate, burst) : null;
            this.admitted = new Admission(Admission.Outcome.ADMITTED, entry.name(), 0, 0);
        }
    }

    /** The keys in force and the file contents they came from. */
    private record State(Map<Role, String> files, Map<Role, Map<ByteBuffer, Key>> keys) {
        static final State EMPTY = new State(Map.of(), new EnumMap<>(Map.of(Role.CLIENT, Map.of(), Role.ADMIN, Map.of())));
    }

    @Override
    public String toString() {
        return "ApiKeys" + Arrays.asList(names(Role.CLIENT), names(Role.ADMIN));
    }
}
