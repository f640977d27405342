package io.mlgateway.shared.storage;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.postgresql.client.EncodedParameter;
import io.r2dbc.postgresql.codec.Codec;
import io.r2dbc.postgresql.codec.CodecMetadata;
import io.r2dbc.postgresql.codec.CodecRegistry;
import io.r2dbc.postgresql.codec.PostgresTypeIdentifier;
import io.r2dbc.postgresql.codec.PostgresqlObjectId;
import io.r2dbc.postgresql.extension.CodecRegistrar;
import io.r2dbc.postgresql.message.Format;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * Reads {@code bytea} columns sent in text format ({@code \x} and two hex digits a byte, what PostgreSQL sends for a
 * simple query's results) with a plain loop. The driver's own codec first matches the whole hex string against a
 * regular expression: for a 50 KB model that was most of the CPU a cold load takes (a profile of 8,000 cold loads:
 * 50% of all samples in {@code java.util.regex}), and registry reads of users' models ran at ~350 a second. Found by
 * r2dbc-postgresql through {@code META-INF/services/io.r2dbc.postgresql.extension.Extension}, ahead of its own.
 * Decode-only: parameters are written by the driver as before.
 */
public final class ByteaCodecs implements CodecRegistrar {

    /** PostgreSQL's type oid of {@code bytea}. */
    static final int BYTEA = 17;
    /** Values decoded here (for the test that the driver picks this codec over its own). */
    static final LongAdder DECODED = new LongAdder();

    @Override
    public Publisher<Void> register(PostgresqlConnection connection, ByteBufAllocator allocator, CodecRegistry registry) {
        registry.addFirst(new HexByteaCodec(byte[].class));
        registry.addFirst(new HexByteaCodec(ByteBuffer.class));
        return Mono.empty();
    }

    /**
     * {@code bytea} in text format to {@code type}, {@code byte[]} or {@link ByteBuffer}. Its metadata is what puts it
     * ahead of the driver's own codec: the driver caches one decoder per type, format and Java class from the
     * codecs that declare theirs, first come first cached.
     */
    static final class HexByteaCodec implements Codec<Object>, CodecMetadata {

        private final Class<?> type;

        HexByteaCodec(Class<?> type) {
            this.type = type;
        }

        @Override
        public Class<?> type() {
            return type;
        }

        @Override
        public Iterable<Format> getFormats() {
            return List.of(Format.FORMAT_TEXT);
        }

        @Override
        public Iterable<? extends PostgresTypeIdentifier> getDataTypes() {
            return List.of(PostgresqlObjectId.BYTEA);
        }

        @Override
        public boolean canDecode(int dataType, Format format, Class<?> type) {
            return dataType == BYTEA && format == Format.FORMAT_TEXT && type == this.type;
        }

        @Override
        public boolean canEncode(Object value) {
            return false;
        }

        @Override
        public boolean canEncodeNull(Class<?> type) {
            return false;
        }

        @Override
        public Object decode(ByteBuf buffer, int dataType, Format format, Class<?> type) {
            if (buffer == null) {
                return null;
            }
            byte[] bytes = decodeHex(buffer);
            DECODED.increment();
            return this.type == ByteBuffer.class ? ByteBuffer.wrap(bytes) : bytes;
        }

        @Override
        public EncodedParameter encode(Object value) {
            throw new UnsupportedOperationException("bytea parameters are the driver's");
        }

        @Override
        public EncodedParameter encode(Object value, int dataType) {
            throw new UnsupportedOperationException("bytea parameters are the driver's");
        }

        @Override
        public EncodedParameter encodeNull() {
            throw new UnsupportedOperationException("bytea parameters are the driver's");
        }
    }

    /**
     * The bytes of PostgreSQL's hex format ({@code bytea_output = hex}, the default since 9.0): {@code \x} then two
     * hex digits a byte, either case.
     *
     * @throws IllegalArgumentException for anything else
     */
    static byte[] decodeHex(ByteBuf text) {
        int length = text.readableBytes();
        byte[] hex = new byte[length];
        text.readBytes(hex);
        if (length < 2 || hex[0] != '\\' || hex[1] != 'x' || (length & 1) != 0) {
            throw new IllegalArgumentException("not a bytea in hex format");
        }
        byte[] out = new byte[(length - 2) / 2];
        for (int i = 0, at = 2; i < out.length; i++, at += 2) {
            int high = NIBBLES[hex[at] & 0xFF];
            int low = NIBBLES[hex[at + 1] & 0xFF];
            if ((high | low) < 0) {
                throw new IllegalArgumentException("not a hex digit in a bytea at " + at);
            }
            out[i] = (byte) (high << 4 | low);
        }
        return out;
    }

    /** Each byte's value as a hex digit, or -1. */
    private static final byte[] NIBBLES = new byte[256];

    static {
        java.util.Arrays.fill(NIBBLES, (byte) -1);
        for (int c = 0; c < 256; c++) {
            if (c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
                NIBBLES[c] = (byte) Character.digit(c, 16);
            }
        }
    }
}
