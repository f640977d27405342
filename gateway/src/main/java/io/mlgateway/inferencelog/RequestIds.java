package io.mlgateway.inferencelog;

import java.security.SecureRandom;
import java.util.UUID;

/**
 * Request ids of logged predictions: UUID version 7 (RFC 9562), a millisecond timestamp followed by 74 random bits.
 *
 * <p>Why not {@link UUID#randomUUID()}: it draws from one shared SecureRandom whose lock every request thread
 * contends for, and fully random keys scatter inserts over the whole {@code rental_predictions} primary-key index,
 * so once the table outgrows memory each insert touches a cold page. Time-ordered keys land at the index's right
 * edge. The random bits still come from a cryptographic generator, one per thread (no contention): ids are not
 * guessable from each other, which matters because an id is what a client quotes to post an actual.
 */
public final class RequestIds {

    private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(SecureRandom::new);

    private RequestIds() {
    }

    public static UUID next() {
        return of(System.currentTimeMillis(), RANDOM.get());
    }

    static UUID of(long epochMillis, SecureRandom random) {
        long high = (epochMillis << 16) | 0x7000L | (random.nextInt() & 0x0FFFL);        // 48-bit time, version 7
        long low = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;    // variant 10
        return new UUID(high, low);
    }
}
