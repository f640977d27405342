package io.mlgateway.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.shared.actuals.ActualsTable;
import io.mlgateway.shared.inferencelog.PredictionRecord;
import io.mlgateway.shared.inferencelog.PredictionTable;
import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.testing.Exposition;
import io.mlgateway.shared.testing.GrafanaDashboards;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.retrain.RetrainerApps;
import io.mlgateway.shared.testing.LogQl;
import io.mlgateway.shared.testing.Registries;
import io.mlgateway.shared.training.BaseModelBootstrap;
import io.mlgateway.shared.training.BikeSharingData;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.scheduler.Schedulers;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Grafana dashboards' retrainer metrics against the retrainer's real {@code /actuator/prometheus}: the app
 * runs on the local services in a schema of its own, retrains one user (50 actuals), and every {@code retrainer_}
 * metric a PromQL expression queries must then be in its scrape. The scrape is the reference, never a list of
 * names in this test. Also the Loki panel of retrain events: Loki's own labels only, filtered by {@code $user_id}.
 */
class RetrainerDashboardMetricsTest {

    /** The test's working directory is the retrainer module. */
    private static final Path RETRAINER_DASHBOARD = GrafanaDashboards.DIR.resolve("retrainer.json");
    private static final List<String> APP_PREFIXES = List.of("retrainer_");
    private static final Set<String> LOKI_LABELS = Set.of("service", "env", "level");
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static LocalServices.TestDatabase db;
    private static ModelRecord base;
    private static ConfigurableApplicationContext retrainer;
    private static int port;

    @BeforeAll
    static void start() {
        db = LocalServices.freshDatabase();
        // The registry holds the base model before the retrainer starts, as the gateway leaves it.
        base = new BaseModelBootstrap(Registries.over(db.connectionFactory()), Schedulers.boundedElastic())
                .ensureBaseModel().block(Duration.ofMinutes(2));
        retrainer = RetrainerApps.start(db,
                "--retrainer.sweep-interval=1s",
                "--retrainer.outbox-interval=300ms",
                // This test is about metrics, not model quality: the fit must not be rejected by validation.
                "--retrainer.max-mae-ratio=1000");
        port = Integer.parseInt(retrainer.getEnvironment().getRequiredProperty("local.server.port"));
    }

    @AfterAll
    static void stop() {
        if (retrainer != null) {
            retrainer.close();
        }
    }

    @Test
    void everyRetrainerMetricTheDashboardsQueryIsInTheRetrainersPrometheusScrape() throws Exception {
        Map<String, Set<String>> queried = queriedMetrics(APP_PREFIXES);
        assertThat(queried).as("retrainer metrics queried by the dashboards").isNotEmpty();
        Exposition atStartUp = scrape();

        // One retrain: 50 logged predictions of a fresh user and their actuals (the threshold), as the gateway
        // writes them; the sweep finds the user due.
        String user = "grafana-" + UUID.randomUUID().toString().substring(0, 8);
        logPredictionsWithActuals(user, 50);
        await("the user's retrain stored and announced (retrain_outbox row published)", TIMEOUT, () -> db.count(
                "SELECT count(*) FROM retrain_outbox WHERE user_id = '" + user + "' AND published_at IS NOT NULL") > 0);

        GrafanaDashboards.assertQueriedMetricsExposed("retrainer",
                "a successful retrain (read, fit, store, cache_evict, notify)", queried, atStartUp,
                RetrainerDashboardMetricsTest::scrape);
    }

    @Test
    void theRetrainEventsPanelQueriesLokiByItsLabelsAndFiltersOnUserId() throws IOException {
        JsonNode dashboard = JSON.readTree(Files.readString(RETRAINER_DASHBOARD, StandardCharsets.UTF_8));
        JsonNode userId = null;
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            if ("user_id".equals(variable.path("name").asString(""))) {
                userId = variable;
            }
        }
        assertThat(userId).as("template variable user_id").isNotNull();
        assertThat(userId.path("type").asString("")).as("user_id variable type").isEqualTo("textbox");

        List<JsonNode> logsPanels = GrafanaDashboards.panels(dashboard).stream()
                .filter(p -> "logs".equals(p.path("type").asString("")))
                .toList();
        assertThat(logsPanels).as("logs panels in " + RETRAINER_DASHBOARD).isNotEmpty();
        for (JsonNode panel : logsPanels) {
            String title = panel.path("title").asString("");
            assertThat(panel.path("datasource").path("uid").asString("")).as(title + ": data source").isEqualTo("loki");
            for (JsonNode target : panel.path("targets")) {
                String expr = target.path("expr").asString("");
                String where = "'" + title + "' " + expr;
                List<String> selectors = LogQl.streamSelectors(expr);
                assertThat(selectors).as(where + ": one stream selector").hasSize(1);
                Map<String, String> matchers = LogQl.matchers(selectors.get(0));
                assertThat(matchers.keySet()).as(where + ": stream labels").isSubsetOf(LOKI_LABELS);
                assertThat(selectors.get(0)).as(where).contains("service=\"retrainer\"");
                // Fields of the JSON line (event, user_id) are filtered after the parser, never as stream labels.
                assertThat(expr).as(where).contains("| json").contains("event=~\"retrain\\\\..*\"")
                        .containsPattern("user_id\\s*=~?\\s*\"\\$\\{?user_id\\b");
                assertThat(expr.indexOf("| json")).as(where + ": user_id filtered after | json")
                        .isLessThan(expr.indexOf("user_id"));
            }
        }
    }

    @Test
    void stepDurationsAreShownAgainstTheCustomersFigures() throws IOException {
        JsonNode dashboard = JSON.readTree(Files.readString(RETRAINER_DASHBOARD, StandardCharsets.UTF_8));
        Set<Double> references = new TreeSet<>();
        for (JsonNode panel : GrafanaDashboards.panels(dashboard)) {
            boolean steps = false;
            for (JsonNode target : panel.path("targets")) {
                String expr = target.path("expr").asString("");
                steps |= expr.contains("retrainer_step_duration_seconds_bucket");
                Matcher constant = Pattern.compile("^\\s*vector\\(\\s*([\\d.eE+-]+)\\s*\\)\\s*$").matcher(expr);
                if (constant.matches()) {
                    references.add(Double.parseDouble(constant.group(1)));
                }
            }
            if (steps) {
                for (JsonNode step : panel.path("fieldConfig").path("defaults").path("thresholds").path("steps")) {
                    if (step.path("value").isNumber()) {
                        references.add(step.path("value").doubleValue());
                    }
                }
            }
        }
        assertThat(references).as("reference lines / thresholds of the step-duration panels (seconds)")
                .contains(0.005, 0.2);
    }

    // --- exercising and scraping the retrainer ----------------------------------------------------------------

    /** Logs {@code n} predictions for {@code user} and stores their actuals, as the gateway does. */
    private static void logPredictionsWithActuals(String user, int n) {
        List<BikeSharingData.Hour> hours = BikeSharingData.where(h -> !h.isYear2011()).subList(3000, 3000 + n);
        List<PredictionRecord> predictions = new ArrayList<>();
        List<ActualsTable.Actual> actuals = new ArrayList<>();
        for (BikeSharingData.Hour hour : hours) {
            UUID id = UUID.randomUUID();
            predictions.add(new PredictionRecord(id, user, base.version(), hour.features(), 100.0, Instant.now()));
            actuals.add(new ActualsTable.Actual(id, hour.count(), OffsetDateTime.now()));
        }
        DatabaseClient client = DatabaseClient.create(db.connectionFactory());
        assertThat(new PredictionTable(client).insert(predictions).block(TIMEOUT)).isEqualTo((long) n);
        Map<UUID, ActualsTable.Outcome> stored = new ActualsTable(client).store(actuals).block(TIMEOUT);
        assertThat(stored.values()).as("actuals stored").hasSize(n).containsOnly(ActualsTable.Outcome.STORED);
    }

    private static Exposition scrape() throws IOException, InterruptedException {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/actuator/prometheus")).header("accept", "text/plain")
                .timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("GET /actuator/prometheus").isEqualTo(200);
        return Exposition.parse(response.body());
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(100);
        }
    }

    // --- reading the dashboards (as GrafanaDashboardsTest in the gateway module) ---------------------------

    private static boolean isPrometheus(JsonNode panel, JsonNode target) {
        JsonNode ref = target.path("datasource").isObject() ? target.path("datasource") : panel.path("datasource");
        return "prometheus".equals(ref.path("type").asString("")) || "prometheus".equals(ref.path("uid").asString(""));
    }

    /** Metric name -> where it is queried, for the app's metrics in every PromQL target and query variable. */
    private static Map<String, Set<String>> queriedMetrics(List<String> prefixes) throws IOException {
        return GrafanaDashboards.queriedMetrics(prefixes, RetrainerDashboardMetricsTest::isPrometheus);
    }
}
