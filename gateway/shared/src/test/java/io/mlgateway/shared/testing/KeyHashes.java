package io.mlgateway.shared.testing;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * What a gateway's key configuration holds for a test's API or admin key: {@code sha256:<hex>} of the key, the form
 * GATEWAY_API_KEYS and GATEWAY_ADMIN_KEYS take (the gateway never stores keys in plain text).
 */
public final class KeyHashes {

    private KeyHashes() {
    }

    /** {@code sha256:} and the lower-case hex SHA-256 of the key's UTF-8 bytes. */
    public static String sha256(String key) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return "sha256:" + HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }
}
