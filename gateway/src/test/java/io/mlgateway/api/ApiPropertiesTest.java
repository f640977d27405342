package io.mlgateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mlgateway.shared.testing.KeyHashes;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

class ApiPropertiesTest {

    private static final String CLIENT = "team-a " + KeyHashes.sha256("client-key");

    private static ApiProperties keys(List<String> apiKeys, List<String> adminKeys, Path keyFile) {
        return new ApiProperties(apiKeys, adminKeys, keyFile, null, Duration.ofSeconds(10), 0, Duration.ofSeconds(1),
                DataSize.ofKilobytes(256));
    }

    @Test
    void refusesToStartWithoutKeysOrAKeyFileAndSaysWhatToSet() {
        assertThatThrownBy(() -> keys(List.of(), List.of(), null))
                .hasMessageContaining("GATEWAY_API_KEYS").hasMessageContaining("GATEWAY_API_KEY_FILE");
        assertThatThrownBy(() -> keys(List.of(" ", ""), List.of(), null)).hasMessageContaining("GATEWAY_API_KEYS");
        assertThat(keys(List.of(), List.of(), Path.of("/run/secrets/keys")).apiKeys()).isEmpty();
    }

    @Test
    void trimsEntriesAsSplitFromTheCommaSeparatedVariable() {
        assertThat(keys(List.of(" " + CLIENT + " ", ""), List.of(), null).apiKeys()).containsExactly(CLIENT);
    }

    @Test
    void refusesAPlainTextKeyNamingTheEntryButNotRepeatingIt() {
        assertThatThrownBy(() -> keys(List.of(CLIENT, "my-plain-key"), List.of(), null))
                .hasMessageContaining("gateway.api.api-keys[1]").hasMessageContaining("plain-text key is refused")
                .hasMessageNotContaining("my-plain-key");
        assertThatThrownBy(() -> keys(List.of(CLIENT), List.of("sha256:abc"), null))
                .hasMessageContaining("gateway.api.admin-keys[0]").hasMessageNotContaining("sha256:abc");
    }
}
