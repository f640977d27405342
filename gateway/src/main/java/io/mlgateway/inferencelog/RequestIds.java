package io.mlgateway.inferencelog;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.util.UUID;

/**
 * Request ids of logged predictions: UUID version 7 (RFC 9562), a millisecond timestamp followed by 74 random bits.
 *
 * <p>Why not {@link UUID#randomUUID()}: it draws from one shared SecureRandom whose lock every request thread
 * contends for, and fully random keys scatter inserts over the whole {@code rental_predictions} primary-key index,
 * so once the table outgrows memory each insert touches a cold page. Time-ordered keys land at the index's right
 * edge. The random bits still come from a cryptographic generator: ids are not guessable from each other, which
 * matters because an id is what a client quotes to post an actual. Each thread draws them from its own generator
 * 4 KB at a time: one call per 256 ids instead of two per id, and no lock shared between threads (Linux's default
 * generator, NativePRNG, reads /dev/urandom under one lock that all its instances share).
 */
public final class RequestIds {

    private static final ThreadLocal<RandomBits> RANDOM =
            ThreadLocal.withInitial(() -> new RandomBits(new SecureRandom()));

    private RequestIds() {
    }

    public static UUID next() {
        return of(System.currentTimeMillis(), RANDOM.get());
    }

    /** When a request id made by {@link #next} was issued (epoch milliseconds); -1 for an id that is not UUIDv7. */
    public static long issuedAtMillis(UUID id) {
        return id.version() == 7 ? id.getMostSignificantBits() >>> 16 : -1;
    }

    static UUID of(long epochMillis, RandomBits random) {
        long high = (epochMillis << 16) | 0x7000L | (random.nextLong() & 0x0FFFL);      // 48-bit time, version 7
        long low = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;    // variant 10
        return new UUID(high, low);
    }

    /** Random longs read from a buffer that a {@link SecureRandom} refills; one per thread, not thread-safe. */
    static final class RandomBits {

        private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class,
                ByteOrder.LITTLE_ENDIAN);

        private final SecureRandom source;
        private final byte[] buffer = new byte[4096];
        private int position = buffer.length;

        RandomBits(SecureRandom source) {
            this.source = source;
        }

        long nextLong() {
            if (position == buffer.length) {
                source.nextBytes(buffer);
                position = 0;
            }
            long value = (long) LONGS.get(buffer, position);
            position += Long.BYTES;
            return value;
        }
    }
}
