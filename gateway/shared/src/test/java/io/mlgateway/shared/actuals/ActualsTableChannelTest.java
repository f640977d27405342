package io.mlgateway.shared.actuals;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The NOTIFY channel is written in a migration (which cannot read Java) and in ActualsTable: they must agree. */
class ActualsTableChannelTest {

    @Test
    void theMigrationNotifiesOnTheChannelTheRetrainerListensTo() throws IOException {
        try (InputStream in = ActualsTable.class.getResourceAsStream("/db/migration/V2__retrain.sql")) {
            String migration = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(migration).contains("pg_notify('" + ActualsTable.NOTIFY_CHANNEL + "', NEW.user_id)");
        }
    }
}
