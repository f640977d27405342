package io.mlgateway.loadtests.gatling;

import io.mlgateway.loadtests.affinity.BalancerConfig;
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
 * The product scaled out on this machine: three gateways and two retrainers from their jars, on one database, Redis
 * and Kafka, behind a real HAProxy configured by deploy/compose/haproxy.cfg (its routing by user, checks and retries
 * as they are; only the addresses become this machine's ports, and a third server line is made from the others').
 * Each gateway is named as its server is, as in docker-compose.yml. Logs in {@code target/scale-out/}; the
 * balancer's log also records each request's routing key ({@link #routes}).
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
    static final int GATEWAYS = 3;
    private final int balancerPort = AppProcess.freePort();
    private final int statsPort = AppProcess.freePort();
    private final Map<String, Map<String, String>> gatewayEnvironments = new HashMap<>();
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
        // The gateways start together, then the retrainers (once the gateways have migrated the schema and trained
        // the base model): JVM start-ups overlap on the two cores.
        List<Runnable> awaits = new ArrayList<>();
        for (int i = 1; i <= GATEWAYS; i++) {
            String name = "gateway-" + i;
            // Each gateway's own recent users (RecentUsers) outlive a run in the shared Redis: start without them.
            redisCli("DEL", "gateway:recent-users:" + name);
            int port = AppProcess.freePort();
            int management = AppProcess.freePort();
            Map<String, String> env = new HashMap<>(AppProcess.services(db));
            env.putAll(Map.of("SERVER_PORT", Integer.toString(port), "MANAGEMENT_SERVER_PORT",
                    Integer.toString(management), "GATEWAY_GRPC_PORT", "0", "GATEWAY_API_KEYS", KeyHashes.sha256(API_KEY),
                    DRAIN, composeGatewaySetting(DRAIN), "GATEWAY_MODEL_CACHE_WARM_UP_INSTANCE", name));
            gatewayEnvironments.put(name, env);
            AppProcess gateway = start(name, "gateway/target/gateway.jar", "-Xmx384m", env);
            gateways.add(new Instance(name, gateway, port, management));
            awaits.add(() -> awaitReady(name, gateway, management));
        }
        awaits.forEach(Runnable::run);
        awaits.clear();
        for (int i = 1; i <= 2; i++) {
            String name = "retrainer-" + i;
            int management = AppProcess.freePort();
            Map<String, String> env = new HashMap<>(AppProcess.services(db));
            env.put("SERVER_PORT", Integer.toString(management));
            AppProcess retrainer = start(name, "retrainer/target/retrainer.jar", "-Xmx256m", env);
            retrainers.add(new Instance(name, retrainer, -1, management));
            awaits.add(() -> awaitReady(name, retrainer, management));
        }
        awaits.forEach(Runnable::run);
        startBalancer();
    }

    private static void awaitReady(String name, AppProcess process, int management) {
        try {
            process.await(name + " ready", START_TIMEOUT, () -> AppProcess.get("http://127.0.0.1:" + management
                    + "/actuator/health/readiness") == 200);
        } catch (Exception e) {
            throw new AssertionError(name + " did not get ready", e);
        }
    }

    private Instance startGateway(String name, Map<String, String> env, int port, int management) throws Exception {
        AppProcess gateway = start(name, "gateway/target/gateway.jar", "-Xmx384m", env);
        awaitReady(name, gateway, management);
        return new Instance(name, gateway, port, management);
    }

    /**
     * Starts a stopped gateway again as it was (same name, ports and settings), once it is ready; returns when the
     * balancer has it back in the ring.
     */
    Instance restart(Instance stopped) throws Exception {
        Instance again = startGateway(stopped.name(), gatewayEnvironments.get(stopped.name()), stopped.port(),
                stopped.management());
        gateways.set(gateways.indexOf(stopped), again);
        awaitUpServers(GATEWAYS);
        return again;
    }

    String baseUrl() {
        return "http://127.0.0.1:" + balancerPort;
    }

    /** Waits until the balancer's checks see {@code count} gateways up. */
    void awaitUpServers(int count) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (upServers() != count) {
            if (!balancer.isAlive() || System.nanoTime() > deadline) {
                throw new AssertionError("HAProxy did not see " + count + " gateways up; " + LOGS.resolve("haproxy.log"));
            }
            Thread.sleep(200);
        }
    }

    /**
     * Where the balancer sent each request so far whose routing key starts with {@code prefix}: user to the
     * servers, in the order of the balancer's log (each request logged once, with its key captured).
     */
    Map<String, List<String>> routes(String prefix) throws IOException {
        Map<String, List<String>> routes = new java.util.LinkedHashMap<>();
        Matcher line = Pattern.compile("(?m) gateways/(gateway-\\d+) .*\\{([^}|]*)\\}").matcher(
                Files.readString(LOGS.resolve("haproxy.log")));
        while (line.find()) {
            if (line.group(2).startsWith(prefix)) {
                routes.computeIfAbsent(line.group(2), u -> new ArrayList<>()).add(line.group(1));
            }
        }
        return routes;
    }

    private static void redisCli(String... command) throws Exception {
        List<String> args = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(LocalServices.redisPort())));
        args.addAll(List.of(command));
        Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        if (p.waitFor() != 0) {
            throw new IllegalStateException("redis-cli " + String.join(" ", command) + " failed");
        }
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

    private void startBalancer() throws Exception {
        String compose = Files.readString(ROOT.resolve("deploy/compose/haproxy.cfg"));
        Path config = LOGS.resolve("haproxy.cfg");
        Files.writeString(config, BalancerConfig.of(compose, balancerPort, statsPort, AppProcess.freePort(),
                gateways.stream().map(g -> new BalancerConfig.Server(g.name(), g.port(), g.management())).toList()));
        String haproxy = Files.isExecutable(Path.of("/usr/sbin/haproxy")) ? "/usr/sbin/haproxy" : "haproxy";
        balancer = new ProcessBuilder(haproxy, "-db", "-f", config.toString()).redirectErrorStream(true)
                .redirectOutput(LOGS.resolve("haproxy.log").toFile()).start();
        awaitUpServers(gateways.size());
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
