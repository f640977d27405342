package io.mlgateway.loadtests.faults;

import io.mlgateway.shared.testing.AppProcess;
import io.mlgateway.shared.testing.KeyHashes;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The product for the fault suite: two gateways and one retrainer from their packaged jars, on the suite's private
 * services ({@link FaultServices}). Two gateways, because a retrain announced on Kafka must reach a gateway other
 * than the one that stored it, and the SIGTERM fault stops one while the other keeps serving. Logs in
 * {@code target/faults/}.
 */
final class FaultProduct implements AutoCloseable {

    static final String API_KEY = "faults-client-key";
    static final String ADMIN_KEY = "faults-admin-key";
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path LOGS = Path.of("target/faults");
    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);

    final FaultServices services;
    final List<Instance> gateways = new ArrayList<>();
    Instance retrainer;
    private final List<AppProcess> processes = new ArrayList<>();

    /** One app instance: its process, API port (gateways; -1 for the retrainer) and management port. */
    record Instance(String name, AppProcess process, int port, int management) {
        String url() {
            return "http://127.0.0.1:" + port;
        }

        String metrics() throws IOException, InterruptedException {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management
                    + "/actuator/prometheus")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
        }
    }

    FaultProduct(FaultServices services) throws Exception {
        this.services = services;
        try {
            // All three at once (the schema is migrated already, by FaultServices): start-up is mostly CPU, but
            // waiting for each in turn costs the suite a minute of its CI budget.
            List<int[]> ports = new ArrayList<>();
            List<AppProcess> started = new ArrayList<>();
            for (int i = 1; i <= 2; i++) {
                int port = AppProcess.freePort();
                int management = AppProcess.freePort();
                Map<String, String> env = new HashMap<>(services.appEnvironment());
                env.putAll(Map.of("SERVER_PORT", Integer.toString(port),
                        "MANAGEMENT_SERVER_PORT", Integer.toString(management), "GATEWAY_GRPC_PORT", "0",
                        "GATEWAY_API_KEYS", KeyHashes.sha256(API_KEY),
                        "GATEWAY_ADMIN_KEYS", KeyHashes.sha256(ADMIN_KEY)));
                started.add(start("gateway-" + i, "gateway/target/gateway.jar", "-Xmx384m", env));
                ports.add(new int[] {port, management});
            }
            int retrainerManagement = AppProcess.freePort();
            Map<String, String> env = new HashMap<>(services.appEnvironment());
            env.put("SERVER_PORT", Integer.toString(retrainerManagement));
            AppProcess process = start("retrainer", "retrainer/target/retrainer.jar", "-Xmx256m", env);
            for (int i = 0; i < 2; i++) {
                int management = ports.get(i)[1];
                started.get(i).await("gateway-" + (i + 1) + " ready", START_TIMEOUT, () -> AppProcess.get(
                        "http://127.0.0.1:" + management + "/actuator/health/readiness") == 200);
                gateways.add(new Instance("gateway-" + (i + 1), started.get(i), ports.get(i)[0], management));
            }
            process.await("retrainer ready", START_TIMEOUT, () -> AppProcess.get("http://127.0.0.1:"
                    + retrainerManagement + "/actuator/health/readiness") == 200);
            retrainer = new Instance("retrainer", process, -1, retrainerManagement);
        } catch (Exception | AssertionError e) {
            close();
            throw e;
        }
    }

    List<String> gatewayUrls() {
        return gateways.stream().map(Instance::url).toList();
    }

    private AppProcess start(String name, String jar, String heap, Map<String, String> env) throws IOException {
        AppProcess process = AppProcess.start(ROOT.resolve(jar), env, AppProcess.Environment.INHERIT_OTHERS,
                LOGS.resolve(name + ".log"), heap);
        processes.add(process);
        return process;
    }

    /** The sum of a metric's samples whose labels contain every one of {@code labels}. */
    static double metric(String metrics, String name, String... labels) {
        double total = 0;
        for (String line : metrics.lines().toList()) {
            if ((line.startsWith(name + "{") || line.startsWith(name + " "))
                    && List.of(labels).stream().allMatch(line::contains)) {
                total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return total;
    }

    @Override
    public void close() {
        for (AppProcess p : processes) {
            try {
                p.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
