package io.mlgateway.shared.schema;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Released migrations are frozen: Flyway checksums every applied script (comments included) and refuses to start a
 * gateway whose copy differs, so editing one, even a comment, would stop every deployed instance at its next start.
 * A change to the schema is a new migration; this test names the scripts already released and their contents.
 */
class AppliedMigrationsTest {

    private static final Map<String, String> RELEASED = Map.of(
            "V1__rentals.sql", "61428f0bb1c358814e2e01f0f0be789e8a4e708f331400f910d3b6f37e0a7c57",
            "V2__retrain.sql", "8dfedd283fa83be3fad2109d5646587e297da2ddddbaaa65efd0c5d60633f1a4",
            "V3__layered_models.sql", "e1a9f25c6c2b16858a9aad123eab102fe25f5573b05eb39721cda8ace52b35fb",
            "V4__drift.sql", "171916461a7be62ed69a109e372632528c93754bbb536d9dc51f47ec3267c0df");

    @Test
    void releasedMigrationsAreUnchanged() throws Exception {
        for (Map.Entry<String, String> migration : RELEASED.entrySet()) {
            assertThat(sha256("/db/migration/" + migration.getKey()))
                    .as("%s was released; change the schema in a new migration instead", migration.getKey())
                    .isEqualTo(migration.getValue());
        }
    }

    private static String sha256(String resource) throws IOException, NoSuchAlgorithmException {
        try (InputStream in = AppliedMigrationsTest.class.getResourceAsStream(resource)) {
            assertThat(in).as(resource).isNotNull();
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(in.readAllBytes()));
        }
    }
}
