package io.mlgateway.loadtests.gatling;

import io.mlgateway.shared.testing.AppProcess;
import io.mlgateway.shared.testing.KeyHashes;
import io.mlgateway.shared.testing.LocalServices;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The product scaled out on this machine: two gateways and two retrainers from their jars, on one database, Redis
 * and Kafka, behind a real HAProxy configured by deploy/compose/haproxy.cfg (its balancing, checks and retries as
 * they are; only the addresses become this machine's ports). Logs in {@code target/scale-out/}.
 */
final class ScaledOutProduct implements AutoCloseable {

    static final String API_KEY = "scale-out-key";
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final String DRAIN = "GATEWAY_HTTP_SHUTDOWN_DRAIN";
    private static final Path LOGS = Path.of("target/scale-out");
    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);

    final LocalServices.TestDatabase db = LocalServices.freshDatabase();
    private final List<AppProcess> processes = new ArrayList<>();
    final List<Instance> gateways = new ArrayList<>();
    final List<Instance> retrainers = new ArrayList<>();
    private final int balancerPort = AppProcess.freePort();
    private final int statsPort = AppProcess.freePort();
    private Process balancer;

    /** One app instance: its process, API port (gateways) and management port. */
    record Instance(String name, AppProcess process, int port, int management) {
        String url() {
            return "http://127.0.0.1:" + port;
        }

        String metrics() throws IOException, InterruptedException {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management
                    + "/actuator/prometheus")).build(), HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    ScaledOutProduct() throws Exception {
        try {
            start();
        } catch (Exception | AssertionError e) {
            // Nothing started may outlive a failed start: the test's @AfterAll never sees this instance.
            close();
            throw e;
        }
    }

    private void start() throws Exception {
        for (int i = 1; i <= 2; i++) {
            int port = AppProcess.freePort();
            int management = AppProcess.freePort();
            Map<String, String> env = new HashMap<>(AppProcess.services(db));
            env.putAll(Map.of("SERVER_PORT", Integer.toString(port), "MANAGEMENT_SERVER_PORT",
                    Integer.toString(management), "GATEWAY_API_KEYS", KeyHashes.sha256(API_KEY),
                    DRAIN, composeGatewaySetting(DRAIN)));
            AppProcess gateway = start("gateway-" + i, "gateway/target/gateway.jar", "-Xmx384m", env);
            gateway.await("gateway-" + i + " ready", START_TIMEOUT, () -> AppProcess.get("http://127.0.0.1:"
                    + management + "/actuator/health/readiness") == 200);
            gateways.add(new Instance("gateway-" + i, gateway, port, management));
        }
        for (int i = 1; i <= 2; i++) {
            int management = AppProcess.freePort();
            Map<String, String> env = new HashMap<>(AppProcess.services(db));
            env.put("SERVER_PORT", Integer.toString(management));
            AppProcess retrainer = start("retrainer-" + i, "retrainer/target/retrainer.jar", "-Xmx256m", env);
            retrainer.await("retrainer-" + i + " ready", START_TIMEOUT, () -> AppProcess.get("http://127.0.0.1:"
                    + management + "/actuator/health/readiness") == 200);
            retrainers.add(new Instance("retrainer-" + i, retrainer, -1, management));
        }
        startBalancer();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + balancerPort;
    }

    private AppProcess start(String name, String jar, String heap, Map<String, String> env) throws IOException {
        AppProcess process = AppProcess.start(ROOT.resolve(jar), env, AppProcess.Environment.INHERIT_OTHERS,
                LOGS.resolve(name + ".log"), heap);
        processes.add(process);
        return process;
    }

    /** A gateway setting as deploy/compose/docker-compose.yml gives it (the drain is tied to haproxy.cfg's checks). */
    static String composeGatewaySetting(String name) throws IOException {
        Matcher setting = Pattern.compile("(?m)^\\s+" + name + ":\\s*(\\S+)\\s*$")
                .matcher(Files.readString(ROOT.resolve("deploy/compose/docker-compose.yml")));
        if (!setting.find()) {
            throw new IllegalStateException("deploy/compose/docker-compose.yml sets no " + name);
        }
        return setting.group(1);
    }

    /**
     * deploy/compose/haproxy.cfg with this machine's addresses: the Docker DNS resolver out, ports in, and a global
     * connection limit this process's file limit allows.
     */
    static String balancerConfig(String compose, int api, int stats, int health, List<Instance> gateways) {
        StringBuilder config = new StringBuilder();
        boolean skipping = false;
        for (String line : compose.split("\n", -1)) {
            if (!line.isEmpty() && !Character.isWhitespace(line.charAt(0)) && !line.startsWith("#")) {
                skipping = line.startsWith("resolvers ");
            }
            if (!skipping) {
                config.append(line).append('\n');
            }
        }
        String text = config.toString()
                .replace(" resolvers docker", "")
                .replace("check port 8081", "check")
                .replace("bind :8080", "bind 127.0.0.1:" + api)
                .replace("bind :8404", "bind 127.0.0.1:" + stats)
                .replace("bind :8405", "bind 127.0.0.1:" + health)
                // A container raises its file limit for maxconn; a test process keeps its own (often 20,000 here).
                .replaceFirst("(?m)^(\\s+)maxconn \\d+", "$1maxconn 2000");
        for (Instance gateway : gateways) {
            Matcher server = Pattern.compile("server " + gateway.name() + " " + gateway.name() + ":8080").matcher(text);
            if (!server.find()) {
                throw new IllegalStateException("deploy/compose/haproxy.cfg has no server " + gateway.name());
            }
            text = server.replaceFirst("server " + gateway.name() + " 127.0.0.1:" + gateway.port() + " port "
                    + gateway.management());
        }
        return text;
    }

    private void startBalancer() throws Exception {
        String compose = Files.readString(ROOT.resolve("deploy/compose/haproxy.cfg"));
        Path config = LOGS.resolve("haproxy.cfg");
        Files.writeString(config, balancerConfig(compose, balancerPort, statsPort, AppProcess.freePort(), gateways));
        String haproxy = Files.isExecutable(Path.of("/usr/sbin/haproxy")) ? "/usr/sbin/haproxy" : "haproxy";
        balancer = new ProcessBuilder(haproxy, "-db", "-f", config.toString()).redirectErrorStream(true)
                .redirectOutput(LOGS.resolve("haproxy.log").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (upServers() < gateways.size()) {
            if (!balancer.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("HAProxy did not mark both gateways up; " + LOGS.resolve("haproxy.log"));
            }
            Thread.sleep(200);
        }
    }

    /** Servers of the gateways backend that HAProxy's checks see UP (its stats CSV). */
    int upServers() {
        try {
            String csv = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + statsPort + "/;csv")).build(), HttpResponse.BodyHandlers.ofString()).body();
            return (int) csv.lines().filter(l -> l.startsWith("gateways,gateway-") && l.contains(",UP,")).count();
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /** The sum of a counter's samples whose labels contain every one of {@code labels} (e.g. trigger="kafka"). */
    static double counter(String metrics, String name, String... labels) {
        double total = 0;
        for (String line : metrics.lines().toList()) {
            if (line.startsWith(name + "{") && List.of(labels).stream().allMatch(line::contains)) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }

    @Override
    public void close() throws InterruptedException {
        if (balancer != null) {
            balancer.destroy();
            balancer.waitFor();
        }
        for (AppProcess p : processes) {
            p.stop();
        }
    }
}
