package io.mlgateway.access;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What checking a request's key costs: {@link ApiKeys#admit} (SHA-256 of the presented key, one lookup, and for a
 * limited key one compare-and-set) with 1 and 100 configured keys, against the check it replaced in the same run
 * (the plain-text keys compared in constant time, one by one). Set beside a request's ~20-50 µs (docs/BENCHMARKS.md).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class ApiKeysBenchmark {

    @Param({"1", "100"})
    int keys;

    private ApiKeys unlimited;
    private ApiKeys limited;
    private List<byte[]> plainKeys;
    private String presented;

    @Setup
    public void setUp() throws Exception {
        List<String> entries = new ArrayList<>();
        List<String> limitedEntries = new ArrayList<>();
        plainKeys = new ArrayList<>();
        for (int i = 0; i < keys; i++) {
            String key = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(("k" + i).getBytes()));
            String hash = HexFormat.of().formatHex(KeyEntry.hashOf(key));
            entries.add("team-" + i + " sha256:" + hash);
            // A rate no benchmark reaches: every call goes through the limiter's compare-and-set and is admitted.
            limitedEntries.add("team-" + i + " sha256:" + hash + " 100000000/s");
            plainKeys.add(key.getBytes(StandardCharsets.UTF_8));
            presented = key;
        }
        unlimited = keys(entries);
        limited = keys(limitedEntries);
    }

    private static ApiKeys keys(List<String> entries) {
        return new ApiKeys(new ApiKeys.Source("gateway.api.api-keys", entries, "gateway.api.key-file", null),
                new ApiKeys.Source("gateway.api.admin-keys", List.of(), "gateway.api.admin-key-file", null),
                new ApiKeys.Limits(0, Duration.ofSeconds(1)), new SimpleMeterRegistry(), System::nanoTime);
    }

    @Benchmark
    public Admission hashedUnlimited() {
        return unlimited.admit(presented, ApiKeys.Role.CLIENT);
    }

    @Benchmark
    public Admission hashedRateLimited() {
        return limited.admit(presented, ApiKeys.Role.CLIENT);
    }

    /** The check before keys were hashed: every configured key compared in constant time. */
    @Benchmark
    public boolean plainTextBaseline() {
        byte[] bytes = presented.getBytes(StandardCharsets.UTF_8);
        boolean match = false;
        for (byte[] key : plainKeys) {
            match |= MessageDigest.isEqual(key, bytes);
        }
        return match;
    }
}
