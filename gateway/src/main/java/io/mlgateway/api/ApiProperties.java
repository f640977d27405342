package io.mlgateway.api;

import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.util.unit.DataSize;

/**
 * API-wide settings.
 *
 * @param apiKeys      accepted {@code x-api-key} values; from the environment ({@code GATEWAY_API_KEYS},
 *                     comma-separated), never from the repository outside the local-dev profile
 * @param adminKeys    accepted {@code x-admin-key} values for the model operations under {@value #ADMIN_PREFIX}
 *                     ({@code GATEWAY_ADMIN_KEYS}); none: those operations answer 403. Never one of {@code apiKeys}:
 *                     a client key must not roll models back.
 * @param maxBodySize  largest request body accepted; beyond it 413
 */
@ConfigurationProperties("gateway.api")
public record ApiProperties(List<String> apiKeys, List<String> adminKeys, DataSize maxBodySize) {

    /** Paths under this prefix take the admin key, and only it. */
    public static final String ADMIN_PREFIX = "/v1/admin/";

    public ApiProperties {
        apiKeys = apiKeys == null ? List.of() : apiKeys.stream().map(String::trim).filter(k -> !k.isEmpty()).toList();
        if (apiKeys.isEmpty()) {
            throw new IllegalStateException(
                    "no API keys configured: set GATEWAY_API_KEYS (comma-separated), or run with the 'local' profile");
        }
        adminKeys = adminKeys == null ? List.of()
                : adminKeys.stream().map(String::trim).filter(k -> !k.isEmpty()).toList();
        if (adminKeys.stream().anyMatch(apiKeys::contains)) {
            throw new IllegalStateException("gateway.api.admin-keys: an admin key must not also be an API key");
        }
        if (maxBodySize == null) {
            maxBodySize = DataSize.ofKilobytes(256);
        }
    }
}
