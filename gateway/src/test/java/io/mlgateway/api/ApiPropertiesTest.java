package io.mlgateway.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

class ApiPropertiesTest {

    private static final DataSize BODY = DataSize.ofKilobytes(256);

    @Test
    void refusesToStartWithoutKeysAndSaysWhichVariableToSet() {
        assertThatThrownBy(() -> new ApiProperties(List.of(), List.of(), BODY))
                .hasMessageContaining("GATEWAY_API_KEYS");
        assertThatThrownBy(() -> new ApiProperties(List.of(" ", ""), List.of(), BODY))
                .hasMessageContaining("GATEWAY_API_KEYS");
    }

    @Test
    void trimsKeysAsSplitFromTheCommaSeparatedVariable() {
        assertThat(new ApiProperties(List.of(" a ", "b", ""), List.of(), BODY).apiKeys()).containsExactly("a", "b");
    }

    @Test
    void refusesAnAdminKeyThatIsAlsoAClientKey() {
        assertThatThrownBy(() -> new ApiProperties(List.of("a", "b"), List.of("b"), BODY))
                .hasMessageContaining("gateway.api.admin-keys");
        assertThat(new ApiProperties(List.of("a"), List.of(" admin "), BODY).adminKeys()).containsExactly("admin");
        assertThat(new ApiProperties(List.of("a"), List.of(), BODY).adminKeys()).isEmpty();
    }
}
