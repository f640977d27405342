package io.mlgateway.access;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlgateway.shared.testing.KeyHashes;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeyEntryTest {

    private static final String HASH = KeyHashes.sha256("the-key");
    private static final String HEX = HASH.substring("sha256:".length());

    @Test
    void readsNameHashAndRate() {
        KeyEntry entry = KeyEntry.parse("team-a " + HASH + " 500/s", "entry");
        assertThat(entry.name()).isEqualTo("team-a");
        assertThat(entry.hash()).isEqualTo(KeyEntry.hashOf("the-key"));
        assertThat(entry.rateLimit()).isEqualTo(500);
    }

    @Test
    void aBareHashIsNamedByItsFirstDigitsAndTakesTheDefaultRate() {
        KeyEntry entry = KeyEntry.parse("  " + HASH.toUpperCase().replace("SHA256:", "sha256:") + "\t", "entry");
        assertThat(entry.name()).isEqualTo("key-" + HEX.substring(0, 8));
        assertThat(HexFormat.of().formatHex(entry.hash())).isEqualTo(HEX);
        assertThat(entry.rateLimit()).isZero();
    }

    @ParameterizedTest
    @ValueSource(strings = {"the-key", "team-a the-key", "sha256:1234", "sha256:%s0", "sha256:%sg", "team a sha256:%s",
        "-x sha256:%s", "n sha256:%s 0/s", "n sha256:%s 5", "n sha256:%s 5/m", "n md5:%s"})
    void refusesAnythingElseWithoutRepeatingIt(String template) {
        String entry = template.formatted(HEX).replace(HEX + "g", HEX.substring(1) + "g");
        assertThatThrownBy(() -> KeyEntry.parse(entry, "GATEWAY_API_KEYS[2]"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("GATEWAY_API_KEYS[2]")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain(entry.strip()));
    }

    @Test
    void aPlainKeyIsToldToBeHashed() {
        assertThatThrownBy(() -> KeyEntry.parse("the-key", "e")).hasMessageContaining("sha256sum");
    }
}
