package io.mlgateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ApiPropertiesTest {

    @Test
    void refusesToStartWithoutKeysAndSaysWhichVariableToSet() {
        assertThatThrownBy(() -> new ApiProperties(List.of(), null, null)).hasMessageContaining("GATEWAY_API_KEYS");
        assertThatThrownBy(() -> new ApiProperties(List.of(" ", ""), null, null)).hasMessageContaining("GATEWAY_API_KEYS");
    }

    @Test
    void trimsKeysAsSplitFromTheCommaSeparatedVariable() {
        assertThat(new ApiProperties(List.of(" a ", "b", ""), null, null).apiKeys()).containsExactly("a", "b");
    }

    @Test
    void refusesAnAdminKeyThatIsAlsoAClientKey() {
        assertThatThrownBy(() -> new ApiProperties(List.of("a", "b"), List.of("b"), null))
                .hasMessageContaining("gateway.api.admin-keys");
        assertThat(new ApiProperties(List.of("a"), List.of(" admin "), null).adminKeys()).containsExactly("admin");
        assertThat(new ApiProperties(List.of("a"), null, null).adminKeys()).isEmpty();
    }
}
