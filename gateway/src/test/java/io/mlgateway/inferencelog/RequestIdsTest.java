package io.mlgateway.inferencelog;

import static org.assertj.core.api.Assertions.assertThat;

import java.security.SecureRandom;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RequestIdsTest {

    @Test
    void areVersion7WithTheRfcVariantAndTheTimestampInTheFirst48Bits() {
        long millis = 1_763_700_000_123L;
        UUID id = RequestIds.of(millis, new RequestIds.RandomBits(new SecureRandom()));
        assertThat(id.version()).isEqualTo(7);
        assertThat(id.variant()).isEqualTo(2);
        assertThat(id.getMostSignificantBits() >>> 16).isEqualTo(millis);
        // What the actuals endpoint accepts: the canonical text form parses back to the same id.
        assertThat(UUID.fromString(id.toString())).isEqualTo(id);
    }

    @Test
    void idsOfLaterMillisecondsSortAfterEarlierOnes() {
        RequestIds.RandomBits random = new RequestIds.RandomBits(new SecureRandom());
        UUID earlier = RequestIds.of(1_000_000L, random);
        UUID later = RequestIds.of(1_000_001L, random);
        // PostgreSQL orders uuid bytewise (unsigned), i.e. by the timestamp first.
        assertThat(Long.compareUnsigned(later.getMostSignificantBits(), earlier.getMostSignificantBits())).isPositive();
    }

    @Test
    void areUniqueAcrossThreadsWithinTheSameMillisecond() throws Exception {
        Set<UUID> ids = java.util.concurrent.ConcurrentHashMap.newKeySet();
        Thread[] threads = new Thread[4];
        for (int t = 0; t < threads.length; t++) {
            threads[t] = new Thread(() -> {
                for (int i = 0; i < 50_000; i++) {
                    ids.add(RequestIds.next());
                }
            });
            threads[t].start();
        }
        for (Thread t : threads) {
            t.join();
        }
        assertThat(ids).hasSize(200_000);
        Set<Integer> versions = new HashSet<>();
        ids.forEach(id -> versions.add(id.version()));
        assertThat(versions).containsExactly(7);
    }

    @Test
    void bitsComeFromTheGeneratorInOrderAndItIsCalledOncePer512Longs() {
        int[] calls = new int[1];
        SecureRandom counting = new SecureRandom() {
            @Override
            public void nextBytes(byte[] bytes) {
                calls[0]++;
                java.util.Arrays.fill(bytes, (byte) calls[0]);
            }
        };
        RequestIds.RandomBits bits = new RequestIds.RandomBits(counting);
        for (int i = 0; i < 512; i++) {
            assertThat(bits.nextLong()).isEqualTo(0x0101010101010101L);
        }
        assertThat(calls[0]).isEqualTo(1);
        assertThat(bits.nextLong()).isEqualTo(0x0202020202020202L);
        assertThat(calls[0]).isEqualTo(2);
    }
}
