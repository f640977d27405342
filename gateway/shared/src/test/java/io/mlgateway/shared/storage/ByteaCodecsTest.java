package io.mlgateway.shared.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlgateway.shared.testing.LocalServices;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.r2dbc.postgresql.message.Format;
import io.r2dbc.spi.Connection;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

class ByteaCodecsTest {

    private static ByteBuf text(String s) {
        return Unpooled.wrappedBuffer(s.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void decodesTheHexFormatInEitherCase() {
        Random random = new Random(5);
        for (int n : new int[] {0, 1, 2, 255, 50_000}) {
            byte[] bytes = new byte[n];
            random.nextBytes(bytes);
            String hex = HexFormat.of().formatHex(bytes);
            assertThat(ByteaCodecs.decodeHex(text("\\x" + hex))).isEqualTo(bytes);
            assertThat(ByteaCodecs.decodeHex(text("\\x" + hex.toUpperCase()))).isEqualTo(bytes);
        }
        ByteaCodecs.HexByteaCodec codec = new ByteaCodecs.HexByteaCodec(ByteBuffer.class);
        assertThat(codec.decode(text("\\x00ff"), ByteaCodecs.BYTEA, Format.FORMAT_TEXT, ByteBuffer.class))
                .isEqualTo(ByteBuffer.wrap(new byte[] {0, (byte) 0xff}));
        assertThat(codec.canDecode(ByteaCodecs.BYTEA, Format.FORMAT_BINARY, ByteBuffer.class)).isFalse();
        assertThat(codec.canDecode(ByteaCodecs.BYTEA, Format.FORMAT_TEXT, byte[].class)).isFalse();
        assertThat(codec.canDecode(25, Format.FORMAT_TEXT, ByteBuffer.class)).as("text is not bytea").isFalse();
    }

    @Test
    void refusesWhatIsNotTheHexFormat() {
        for (String bad : new String[] {"", "\\", "00ff", "\\x0", "\\x0g", "\\\\x00"}) {
            assertThatThrownBy(() -> ByteaCodecs.decodeHex(text(bad))).as(bad)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    /** Through the driver and a real PostgreSQL: what is written is what is read, at a model's size, by this codec. */
    @Test
    void aRealServerRoundTrip() {
        long before = ByteaCodecs.DECODED.sum();
        byte[] bytes = new byte[60_000];
        new Random(9).nextBytes(bytes);
        LocalServices.TestDatabase db = LocalServices.freshDatabase();
        byte[] read = Mono.usingWhen(Mono.from(db.connectionFactory().create()),
                (Connection c) -> Flux.from(c.createStatement("SELECT $1::bytea AS b").bind("$1", ByteBuffer.wrap(bytes))
                        .execute()).flatMap(r -> r.map((row, meta) -> row.get("b", byte[].class))).single(),
                Connection::close).block();
        assertThat(read).isEqualTo(bytes);
        assertThat(ByteaCodecs.DECODED.sum() - before).as("decoded by this codec, not the driver's").isEqualTo(1);
    }
}
