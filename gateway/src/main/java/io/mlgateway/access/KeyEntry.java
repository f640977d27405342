package io.mlgateway.access;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One configured key: a name (for logs and operators, never secret), the SHA-256 of the key, and its own rate limit.
 *
 * <p>Written as {@code [name] sha256:<64 hex digits> [<n>/s]}, the same in GATEWAY_API_KEYS / GATEWAY_ADMIN_KEYS
 * (comma-separated) and in a key file (one per line). Hashes, because configuration is read by many (manifests,
 * CI logs, {@code /proc/<pid>/environ}); a hash lets nobody call the API. The keys themselves must be random
 * (e.g. {@code openssl rand -hex 32}), so an unsalted fast hash is the right one: nothing to brute-force, and
 * checking costs a microsecond per request. Without a name the entry is called {@code key-<first 8 hex digits>};
 * without a rate it takes the configured default.
 *
 * @param name      how logs and metrics name the key
 * @param hash      the key's SHA-256, 32 bytes
 * @param rateLimit requests per second this key may send, 0 = the configured default
 */
public record KeyEntry(String name, byte[] hash, int rateLimit) {

    private static final Pattern ENTRY = Pattern.compile(
            "(?:([A-Za-z0-9][A-Za-z0-9._-]{0,63})\\s+)?sha256:([0-9a-fA-F]{64})(?:\\s+([0-9]{1,9})/s)?");

    /** The format, for messages. */
    public static final String FORMAT = "[name] sha256:<64 hex digits> [<n>/s]";

    /**
     * Parses one entry. A failure names where the entry came from but never repeats it: a plain-text key pasted by
     * mistake must not end up in a log.
     */
    public static KeyEntry parse(String entry, String where) {
        Matcher m = ENTRY.matcher(entry.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException(where + " is not '" + FORMAT + "'" + (entry.contains("sha256:") ? ""
                    : " (a plain-text key is refused: configure its hash, printf %s \"$KEY\" | sha256sum)"));
        }
        byte[] hash = HexFormat.of().parseHex(m.group(2).toLowerCase(java.util.Locale.ROOT));
        String name = m.group(1) != null ? m.group(1) : "key-" + m.group(2).substring(0, 8).toLowerCase(java.util.Locale.ROOT);
        int rate = m.group(3) == null ? 0 : Integer.parseInt(m.group(3));
        if (m.group(3) != null && rate == 0) {
            throw new IllegalArgumentException(where + ": a rate limit must be at least 1/s");
        }
        return new KeyEntry(name, hash, rate);
    }

    /** The SHA-256 of a presented key's UTF-8 bytes. */
    public static byte[] hashOf(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform has SHA-256", e);
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KeyEntry k && name.equals(k.name) && MessageDigest.isEqual(hash, k.hash)
                && rateLimit == k.rateLimit;
    }

    @Override
    public int hashCode() {
        return java.util.Arrays.hashCode(hash) * 31 + name.hashCode() * 7 + rateLimit;
    }

    @Override
    public String toString() {
        return name + (rateLimit > 0 ? " " + rateLimit + "/s" : "");
    }
}
