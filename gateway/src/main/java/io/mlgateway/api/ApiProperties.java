package io.mlgateway.api;

import static io.mlgateway.shared.config.PropertyChecks.check;
import static io.mlgateway.shared.config.PropertyChecks.positive;
import static io.mlgateway.shared.config.PropertyChecks.required;

import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * API-wide settings.
 *
 * @param apiKeys      accepted x-api-key values, required; from the environment (GATEWAY_API_KEYS,
 *                     comma-separated), never from the repository outside the local-dev profile
 * @param adminKeys    accepted x-admin-key values for the model operations under /v1/admin/
 *                     (GATEWAY_ADMIN_KEYS, comma-separated); none: those operations answer 403. Never one
 *                     of the API keys: a client key must not roll models back.
 * @param maxBodySize  largest request body accepted; beyond it 413
 */
@ConfigurationProperties(ApiProperties.PREFIX)
public record ApiProperties(
        List<String> apiKeys,
        @DefaultValue List<String> adminKeys,
        @DefaultValue("256KB") DataSize maxBodySize) {

    public static final String PREFIX = "gateway.api";

    public ApiProperties {
        apiKeys = trimmed(apiKeys);
        check(apiKeys != null && !apiKeys.isEmpty(), PREFIX + ".api-keys",
                "is required: set GATEWAY_API_KEYS (comma-separated), or run with the 'local' profile");
        required(PREFIX + ".admin-keys", adminKeys);
        adminKeys = trimmed(adminKeys);
        check(adminKeys.stream().noneMatch(apiKeys::contains), PREFIX + ".admin-keys",
                "must not repeat a key of " + PREFIX + ".api-keys: a client key must not roll models back");
        positive(PREFIX + ".max-body-size", maxBodySize);
    }

    /** The keys without surrounding blanks, empty ones (from a trailing comma) dropped; null stays null. */
    private static List<String> trimmed(List<String> keys) {
        return keys == null ? null : keys.stream().map(String::trim).filter(k -> !k.isEmpty()).toList();
    }
}
