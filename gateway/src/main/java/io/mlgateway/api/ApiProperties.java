package io.mlgateway.api;

import static io.mlgateway.shared.config.PropertyChecks.accepted;
import static io.mlgateway.shared.config.PropertyChecks.atLeast;
import static io.mlgateway.shared.config.PropertyChecks.check;
import static io.mlgateway.shared.config.PropertyChecks.positive;
import static io.mlgateway.shared.config.PropertyChecks.required;

import io.mlgateway.access.KeyEntry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * API-wide settings: who may call (keys by hash, see {@link KeyEntry} for the entry format), how fast, and how much.
 *
 * @param apiKeys               client keys (x-api-key), as '[name] sha256:&lt;hex&gt; [&lt;n&gt;/s]' entries; from
 *                              the environment (GATEWAY_API_KEYS, comma-separated). A plain-text key is refused.
 *                              These or a key file are required.
 * @param adminKeys             keys for the model operations under /v1/admin/ (x-admin-key; GATEWAY_ADMIN_KEYS),
 *                              same format; none (and no admin key file): those operations answer 403. Never one of
 *                              the client keys: a client key must not roll models back.
 * @param keyFile               a file of client key entries, one per line ('#' starts a comment), re-read every
 *                              key-file-check-interval: keys are added and retired without a restart. Its keys are
 *                              accepted besides api-keys. None by default.
 * @param adminKeyFile          the same for admin keys. None by default.
 * @param keyFileCheckInterval  how often the key files are re-read
 * @param defaultRateLimit      requests per second each key may send when its entry sets none; over it, 429 with
 *                              Retry-After. 0 = unlimited.
 * @param rateLimitBurst        how much of its rate a quiet key may send at once: rate × burst requests
 * @param maxBodySize           largest request body accepted; beyond it 413
 */
@ConfigurationProperties(ApiProperties.PREFIX)
public record ApiProperties(
        @DefaultValue List<String> apiKeys,
        @DefaultValue List<String> adminKeys,
        Path keyFile,
        Path adminKeyFile,
        @DefaultValue("10s") Duration keyFileCheckInterval,
        @DefaultValue("0") int defaultRateLimit,
        @DefaultValue("1s") Duration rateLimitBurst,
        @DefaultValue("256KB") DataSize maxBodySize) {

    public static final String PREFIX = "gateway.api";

    public ApiProperties {
        required(PREFIX + ".api-keys", apiKeys);
        required(PREFIX + ".admin-keys", adminKeys);
        apiKeys = trimmed(apiKeys);
        adminKeys = trimmed(adminKeys);
        // Each entry is checked here, so a malformed one stops start-up naming its key (never echoing it).
        for (int i = 0; i < apiKeys.size(); i++) {
            String entry = apiKeys.get(i);
            accepted(PREFIX + ".api-keys[" + i + "]", () -> KeyEntry.parse(entry, "the entry"));
        }
        for (int i = 0; i < adminKeys.size(); i++) {
            String entry = adminKeys.get(i);
            accepted(PREFIX + ".admin-keys[" + i + "]", () -> KeyEntry.parse(entry, "the entry"));
        }
        check(!apiKeys.isEmpty() || keyFile != null, PREFIX + ".api-keys", "is required: set GATEWAY_API_KEYS "
                + "(comma-separated '" + KeyEntry.FORMAT + "') or a key file (GATEWAY_API_KEY_FILE), or run with the "
                + "'local' profile");
        positive(PREFIX + ".key-file-check-interval", keyFileCheckInterval);
        atLeast(PREFIX + ".default-rate-limit", defaultRateLimit, 0);
        positive(PREFIX + ".rate-limit-burst", rateLimitBurst);
        positive(PREFIX + ".max-body-size", maxBodySize);
    }

    /** The entries without surrounding blanks, empty ones (from a trailing comma) dropped. */
    private static List<String> trimmed(List<String> entries) {
        return entries.stream().map(String::trim).filter(k -> !k.isEmpty()).toList();
    }
}
