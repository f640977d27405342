package io.mlgateway.shared.storage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.UUID;

/**
 * A one-dimensional PostgreSQL array already in the binary wire format ({@code array_recv}), bound as a statement
 * parameter through {@link BinaryArrayCodecs}. The driver sends array parameters as text otherwise: every float
 * printed as decimal on our side and parsed back by PostgreSQL, which at tens of thousands of logged predictions
 * per second cost a fifth of the gateway's CPU (docs/BENCHMARKS.md). In binary both sides just copy bytes.
 *
 * @param arrayOid the array type's OID (e.g. 1021 for {@code real[]})
 * @param bytes    header, dimension and elements, big-endian as PostgreSQL expects
 */
public record BinaryArray(int arrayOid, byte[] bytes) {

    private static final int HEADER = 20; // ndim, has-nulls flag, element OID, length, lower bound
    /** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix seconds. */
    private static final long PG_EPOCH_SECONDS = 946_684_800L;

    public static BinaryArray uuids(UUID[] values) {
        ByteBuffer out = start(2951, 2950, values.length, values.length * (4 + 16));
        for (UUID v : values) {
            out.putInt(16).putLong(v.getMostSignificantBits()).putLong(v.getLeastSignificantBits());
        }
        return new BinaryArray(2951, out.array());
    }

    public static BinaryArray texts(String[] values) {
        byte[][] encoded = new byte[values.length][];
        int size = 0;
        for (int i = 0; i < values.length; i++) {
            encoded[i] = values[i].getBytes(StandardCharsets.UTF_8);
            size += 4 + encoded[i].length;
        }
        ByteBuffer out = start(1009, 25, values.length, size);
        for (byte[] v : encoded) {
            out.putInt(v.length).put(v);
        }
        return new BinaryArray(1009, out.array());
    }

    public static BinaryArray int8s(long[] values) {
        ByteBuffer out = start(1016, 20, values.length, values.length * (4 + 8));
        for (long v : values) {
            out.putInt(8).putLong(v);
        }
        return new BinaryArray(1016, out.array());
    }

    public static BinaryArray float4s(float[] values) {
        ByteBuffer out = start(1021, 700, values.length, values.length * (4 + 4));
        for (float v : values) {
            out.putInt(4).putInt(Float.floatToRawIntBits(v));
        }
        return new BinaryArray(1021, out.array());
    }

    public static BinaryArray float8s(double[] values) {
        ByteBuffer out = start(1022, 701, values.length, values.length * (4 + 8));
        for (double v : values) {
            out.putInt(8).putLong(Double.doubleToRawLongBits(v));
        }
        return new BinaryArray(1022, out.array());
    }

    /** {@code timestamptz[]}: microseconds since 2000-01-01 UTC (sub-microsecond digits are dropped, as PostgreSQL does). */
    public static BinaryArray timestamptzs(Instant[] values) {
        ByteBuffer out = start(1185, 1184, values.length, values.length * (4 + 8));
        for (Instant v : values) {
            long micros = Math.addExact(Math.multiplyExact(v.getEpochSecond() - PG_EPOCH_SECONDS, 1_000_000L),
                    v.getNano() / 1_000);
            out.putInt(8).putLong(micros);
        }
        return new BinaryArray(1185, out.array());
    }

    private static ByteBuffer start(int arrayOid, int elementOid, int length, int elementBytes) {
        return ByteBuffer.allocate(HEADER + elementBytes)
                .putInt(1)          // one dimension
                .putInt(0)          // no NULL elements
                .putInt(elementOid)
                .putInt(length)
                .putInt(1);         // lower bound: arrays start at subscript 1
    }
}
