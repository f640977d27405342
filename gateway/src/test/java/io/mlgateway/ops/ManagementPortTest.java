package io.mlgateway.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.shared.testing.KeyHashes;
import io.mlgateway.shared.testing.LocalServices;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The management port as an operator configures it: bound to the interface they choose
 * ({@code MANAGEMENT_SERVER_ADDRESS}), serving health, info and metrics only, none of which holds a secret
 * (database password or URL credentials, key hashes) even with the backing services connected.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0",
        "management.server.address=127.0.0.1",
        "gateway.rentals.startup-retry=500ms"})
class ManagementPortTest {

    private static final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private static final String KEY_HASH = KeyHashes.sha256("management-test-key");

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        db.springProperties().forEach((key, value) -> registry.add(key, () -> value));
        registry.add("gateway.api.api-keys", () -> "ops-visible-name " + KEY_HASH);
    }

    @LocalManagementPort
    int management;

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management + path))
                .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void listensOnTheConfiguredInterfaceOnly() throws Exception {
        assertThat(listeners(management)).as("sockets listening on the management port").containsExactly("127.0.0.1");
    }

    @Test
    void servesHealthInfoAndMetricsOnly() throws Exception {
        HttpResponse<String> index = get("/actuator");
        assertThat(index.statusCode()).isEqualTo(200);
        List<String> links = new ArrayList<>();
        var matcher = java.util.regex.Pattern.compile("\"([a-z-]+)\":\\{\"href\"").matcher(index.body());
        while (matcher.find()) {
            links.add(matcher.group(1));
        }
        assertThat(links).containsExactlyInAnyOrder("self", "health", "health-path", "info", "prometheus");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/actuator/env", "/actuator/configprops", "/actuator/heapdump", "/actuator/threaddump",
        "/actuator/loggers", "/actuator/beans", "/actuator/mappings", "/actuator/shutdown", "/actuator/metrics",
        "/actuator/conditions", "/actuator/scheduledtasks", "/actuator/logfile"})
    void anythingThatCouldExposeInternalsIsNotThere(String path) throws Exception {
        assertThat(get(path).statusCode()).isEqualTo(404);
    }

    @Test
    void whatIsServedHoldsNoSecret() throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        HttpResponse<String> readiness;
        do {
            readiness = get("/actuator/health/readiness");
        } while (readiness.statusCode() != 200 && System.nanoTime() < deadline);
        assertThat(readiness.statusCode()).as("ready, with its details").isEqualTo(200);
        String served = readiness.body() + get("/actuator/health").body() + get("/actuator/info").body()
                + get("/actuator/prometheus").body();
        assertThat(served).contains("rentals");
        // The local services' password is the word "inference", which metric names contain: look for what would
        // carry a credential instead.
        for (String secret : List.of(db.r2dbcUrl(), "r2dbc:", "redis://", "password", KEY_HASH.substring(7), "sha256:")) {
            assertThat(served).doesNotContain(secret);
        }
    }

    /** The local addresses of the IPv4 and IPv6 sockets listening on {@code port}, from the kernel's tables. */
    private static List<String> listeners(int port) throws Exception {
        List<String> addresses = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path file = Path.of(table);
            if (!Files.exists(file)) {
                continue;
            }
            List<String> lines = Files.readAllLines(file); // read once: the table changes as sockets come and go
            for (String line : lines.subList(1, lines.size())) {
                String[] fields = line.trim().split("\\s+");
                String[] local = fields[1].split(":");
                boolean listening = fields[3].equals("0A");
                if (listening && Integer.parseInt(local[1], 16) == port) {
                    addresses.add(address(local[0]));
                }
            }
        }
        return addresses;
    }

    /**
     * /proc/net/tcp writes addresses as hex in host (little-endian) order, per 32-bit word; an IPv4 address on an
     * IPv6 socket is mapped (::ffff:a.b.c.d) and read as the IPv4 address.
     */
    private static String address(String hex) {
        if (hex.length() == 8) {
            long v = Long.parseLong(hex, 16);
            return (v & 0xff) + "." + ((v >> 8) & 0xff) + "." + ((v >> 16) & 0xff) + "." + ((v >> 24) & 0xff);
        }
        String upper = hex.toUpperCase(Locale.ROOT);
        if (upper.startsWith("0000000000000000FFFF0000")) {
            return address(upper.substring(24));
        }
        return upper.equals("0".repeat(32)) ? "::" : hex;
    }
}
