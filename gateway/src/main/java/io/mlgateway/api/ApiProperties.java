package io.mlgateway.api;

import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * API-wide settings.
 *
 * @param apiKeys      accepted {@code x-api-key} values; from the environment ({@code GATEWAY_API_KEYS},
 *                     comma-separated), never from the repository outside the local-dev profile
 * @param maxBodySize  largest request body accepted; beyond it 413
 */
@ConfigurationProperties("gateway.api")
public record ApiProperties(List<String> apiKeys, DataSize maxBodySize) {

    public ApiProperties {
        apiKeys = apiKeys == null ? List.of() : apiKeys.stream().map(String::trim).filter(k -> !k.isEmpty()).toList();
        if (apiKeys.isEmpty()) {
            throw new IllegalStateException(
                    "no API keys configured: set GATEWAY_API_KEYS (comma-separated), or run with the 'local' profile");
        }
        if (maxBodySize == null) {
            maxBodySize = DataSize.ofKilobytes(256);
        }
    }
}
