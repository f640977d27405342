package io.mlgateway.shared.storage;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.postgresql.client.EncodedParameter;
import io.r2dbc.postgresql.codec.Codec;
import io.r2dbc.postgresql.codec.CodecRegistry;
import io.r2dbc.postgresql.extension.CodecRegistrar;
import io.r2dbc.postgresql.message.Format;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * Lets {@link BinaryArray} values be bound as statement parameters, sent in binary format. r2dbc-postgresql finds
 * this registrar through {@code META-INF/services/io.r2dbc.postgresql.extension.Extension} (its extension
 * auto-detection), so every connection of both apps has it without any wiring.
 */
public final class BinaryArrayCodecs implements CodecRegistrar {

    @Override
    public Publisher<Void> register(PostgresqlConnection connection, ByteBufAllocator allocator, CodecRegistry registry) {
        registry.addFirst(new BinaryArrayCodec(allocator));
        return Mono.empty();
    }

    /** Encode-only: reading arrays back is the driver's own business. */
    static final class BinaryArrayCodec implements Codec<BinaryArray> {

        private final ByteBufAllocator allocator;

        BinaryArrayCodec(ByteBufAllocator allocator) {
            this.allocator = allocator;
        }

        @Override
        public boolean canDecode(int dataType, Format format, Class<?> type) {
            return false;
        }

        @Override
        public boolean canEncode(Object value) {
            return value instanceof BinaryArray;
        }

        @Override
        public boolean canEncodeNull(Class<?> type) {
            return false;
        }

        @Override
        public BinaryArray decode(ByteBuf buffer, int dataType, Format format, Class<? extends BinaryArray> type) {
            throw new UnsupportedOperationException("BinaryArray is write-only");
        }

        @Override
        public EncodedParameter encode(Object value) {
            BinaryArray array = (BinaryArray) value;
            return new EncodedParameter(Format.FORMAT_BINARY, array.arrayOid(),
                    Mono.fromSupplier(() -> allocator.buffer(array.bytes().length).writeBytes(array.bytes())));
        }

        @Override
        public EncodedParameter encode(Object value, int dataType) {
            return encode(value);
        }

        @Override
        public EncodedParameter encodeNull() {
            throw new UnsupportedOperationException("a BinaryArray parameter is never null");
        }
    }
}
