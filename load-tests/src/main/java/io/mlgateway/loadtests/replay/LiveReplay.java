package io.mlgateway.loadtests.replay;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.training.BikeSharingData;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Replays 2012 hour by hour through the running product, as a user would: each hour is predicted for a fresh user
 * over HTTP, then its true count is posted as the actual; the retrainer refits the user's model every 50 actuals
 * and the gateway swaps it in. Beside it, a second fresh user that never sends actuals is served the frozen base
 * model. Prints the rolling MAE of both as it goes and writes the same plot as the offline replay. True counts are
 * posted {@code actualsBatch} at a time (they arrive later than the forecast in practice too): one actual per call
 * would pace the replay by the database's commit flush, not by the product.
 *
 * <p>{@code java -cp … io.mlgateway.loadtests.replay.LiveReplay [--url http://127.0.0.1:8080] [--key local-dev-key]
 * [--hours N] [--rate hoursPerSecond] [--actuals-batch 10] [--out DIR]}
 */
public final class LiveReplay {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** What the replay saw. */
    public record Result(String user, float[] actuals, float[] served, float[] frozen, long[] versions) {

        public double mae(float[] predictions, int from, int to) {
            return OfflineReplay.mae(predictions, actuals, from, to);
        }

        public long distinctVersions() {
            return java.util.Arrays.stream(versions).distinct().count();
        }
    }

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final String url;
    private final String key;

    public LiveReplay(String url, String key) {
        this.url = url;
        this.key = key;
    }

    public static void main(String[] args) throws Exception {
        // Library chatter (Logback's default is DEBUG to the console) would bury the figures.
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        String url = "http://127.0.0.1:8080";
        String key = "local-dev-key";
        int hours = Integer.MAX_VALUE;
        double rate = 40;
        int actualsBatch = 10;
        Path out = Path.of("load-tests/target/replay");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--url" -> url = args[++i];
                case "--key" -> key = args[++i];
                case "--hours" -> hours = Integer.parseInt(args[++i]);
                case "--rate" -> rate = Double.parseDouble(args[++i]);
                case "--actuals-batch" -> actualsBatch = Integer.parseInt(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        List<BikeSharingData.Hour> year2012 = BikeSharingData.where(h -> !h.isYear2011());
        List<BikeSharingData.Hour> replay = year2012.subList(0, Math.min(hours, year2012.size()));
        LiveReplay live = new LiveReplay(url, key);
        long started = System.nanoTime();
        Result result = live.run(replay, rate, actualsBatch, true);
        int n = replay.size();
        System.out.printf(Locale.ROOT, "%n%s: %d hours in %.0f s; MAE live %.2f (first 2,000 h: %.2f), frozen base %.2f"
                        + " (%.2f); %d model versions served%n", result.user(), n, (System.nanoTime() - started) / 1e9,
                result.mae(result.served(), 0, n), result.mae(result.served(), 0, Math.min(2000, n)),
                result.mae(result.frozen(), 0, n), result.mae(result.frozen(), 0, Math.min(2000, n)),
                result.distinctVersions());
        JsonNode history = live.get("/v1/rentals/" + result.user() + "/models?limit=1000");
        int promoted = 0;
        int rejected = 0;
        int maxOwn = 0;
        for (JsonNode v : history.get("versions")) {
            if ("rejected".equals(v.get("status").stringValue())) {
                rejected++;
            } else {
                promoted++;
                maxOwn = Math.max(maxOwn, v.get("own_trees").intValue());
            }
        }
        System.out.printf(Locale.ROOT, "versions stored: %d promoted, %d rejected; own trees at most %d%n", promoted,
                rejected, maxOwn);
        Path page = ReplayPlot.write(out.resolve("live.html"), "Live replay through the gateway and retrainer: rolling"
                        + " MAE (one week)", replay, result.actuals(), List.of(
                        new OfflineReplay.Result("frozen base model (served to a user without actuals)",
                                result.frozen(), 0, 0, 0, 0),
                        new OfflineReplay.Result("live: the retrainer's policy, as served", result.served(), promoted,
                                rejected, maxOwn, 0)));
        System.out.println("plot: " + page.toAbsolutePath());
    }

    /**
     * Predicts each hour for a fresh user and a frozen one, at {@code rate} hours a second, and posts the true counts
     * {@code actualsBatch} hours at a time.
     */
    public Result run(List<BikeSharingData.Hour> hours, double rate, int actualsBatch, boolean progress)
            throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        String user = "replay-" + id;
        String frozenUser = "replay-frozen-" + id;
        int n = hours.size();
        float[] actuals = new float[n];
        float[] served = new float[n];
        float[] frozen = new float[n];
        long[] versions = new long[n];
        List<String> pending = new java.util.ArrayList<>();
        long start = System.nanoTime();
        long interval = (long) (1e9 / rate);
        for (int i = 0; i < n; i++) {
            LockSupport.parkNanos(start + i * interval - System.nanoTime());
            BikeSharingData.Hour hour = hours.get(i);
            String body = body(hour);
            JsonNode answer = post("/v1/rentals/" + user + "/predict", body);
            JsonNode base = post("/v1/rentals/" + frozenUser + "/predict", body);
            actuals[i] = hour.count();
            served[i] = answer.get("prediction").floatValue();
            frozen[i] = base.get("prediction").floatValue();
            versions[i] = answer.get("model_version").longValue();
            pending.add("{\"request_id\":\"" + answer.get("request_id").stringValue() + "\",\"actual_value\":"
                    + hour.count() + "}");
            if (pending.size() >= actualsBatch || i == n - 1) {
                JsonNode stored = post("/v1/rentals/actuals", "{\"actuals\":[" + String.join(",", pending) + "]}");
                if (stored.path("counts").path("stored").intValue() != pending.size()) {
                    throw new IllegalStateException("actuals not all stored: " + stored);
                }
                pending.clear();
            }
            if (progress && (i + 1) % 500 == 0) {
                int from = Math.max(0, i + 1 - 500);
                System.out.printf(Locale.ROOT, "%5d hours  %s  last 500: MAE live %6.2f  frozen %6.2f   so far: live %6.2f"
                                + "  frozen %6.2f  (model version %d)%n", i + 1, hour.date(),
                        OfflineReplay.mae(served, actuals, from, i + 1), OfflineReplay.mae(frozen, actuals, from, i + 1),
                        OfflineReplay.mae(served, actuals, 0, i + 1), OfflineReplay.mae(frozen, actuals, 0, i + 1),
                        versions[i]);
            }
        }
        return new Result(user, actuals, served, frozen, versions);
    }

    private static String body(BikeSharingData.Hour hour) {
        StringBuilder json = new StringBuilder("{\"features\":{");
        for (int i = 0; i < RentalFeatures.COUNT; i++) {
            json.append(i == 0 ? "" : ",").append('"').append(RentalFeatures.NAMES.get(i)).append("\":")
                    .append(hour.features()[i]);
        }
        return json.append("}}").toString();
    }

    private JsonNode post(String path, String body) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(url + path)).header("content-type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    JsonNode get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(url + path)).GET());
    }

    private JsonNode send(HttpRequest.Builder request) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request.header("x-api-key", key).timeout(Duration.ofSeconds(30))
                .build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IllegalStateException(response.statusCode() + " from " + response.uri() + ": " + response.body());
        }
        return JSON.readTree(response.body());
    }
}
