package io.mlgateway.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.mlgateway.shared.features.RentalFeatures;
import io.mlgateway.shared.testing.Exposition;
import io.mlgateway.shared.testing.GrafanaDashboards;
import io.mlgateway.shared.testing.LocalServices;
import io.mlgateway.shared.testing.LogQl;
import io.mlgateway.shared.testing.PromQl;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.rentals.RentalsReadiness;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.config.YamlMapFactoryBean;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalManagementPort;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.io.FileSystemResource;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Grafana dashboards in {@code deploy/grafana/dashboards} against the provisioning next to them and against
 * the gateway's real {@code /actuator/prometheus}: well-formed JSON (uids, ids, grid positions, targets), data
 * sources by provisioned uid only, Loki stream selectors on Loki's own labels only, and every gateway metric a
 * PromQL expression queries present in the scrape of a running gateway (PostgreSQL, Redis and Kafka are the local
 * services, in a schema of the test's own). The scrape is the reference, never a list of names in this test.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "management.server.port=0",
        "gateway.api.api-keys=" + GrafanaDashboardsTest.KEY_HASH,
        "gateway.rentals.startup-retry=500ms"})
class GrafanaDashboardsTest {

    static final String KEY = "grafana-test-key";
    static final String KEY_HASH = "sha256:df1ce3c5737cda3d246711978973b96479e75267c9d022aaf09c7c14519e4879"; // of KEY

    /** The test's working directory is the gateway module. */
    private static final Path GRAFANA = Path.of("..", "deploy", "grafana");
    private static final Path DASHBOARDS = GRAFANA.resolve("dashboards");
    private static final Path DATASOURCES = GRAFANA.resolve(Path.of("provisioning", "datasources", "datasources.yml"));
    private static final Path SAMPLE_REGNO = Path.of("..", "deploy", "local", "sample-regno.json");

    /** Metric name prefixes this app exposes; other names in the dashboards belong to other apps. */
    private static final List<String> APP_PREFIXES = List.of("gateway_", "http_server_requests", "jvm_");
    /** Labels the Loki stream selectors may use (the log shipper sets only these). */
    private static final Set<String> LOKI_LABELS = Set.of("service", "env", "level");
    private static final Set<String> PANEL_TYPES = Set.of("row", "timeseries", "stat", "gauge", "bargauge", "table",
            "heatmap", "histogram", "logs", "text", "piechart", "barchart", "state-timeline", "status-history");
    private static final Set<String> GRAFANA_BUILTINS = Set.of("__rate_interval", "__interval", "__interval_ms",
            "__range", "__range_s", "__range_ms", "__auto", "__dashboard", "__from", "__to", "__name", "__org",
            "__user", "__timeFilter");

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static LocalServices.TestDatabase db;

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        db = LocalServices.freshDatabase();
        registry.add("spring.r2dbc.url", db::r2dbcUrl);
        registry.add("spring.r2dbc.username", db::user);
        registry.add("spring.r2dbc.password", db::password);
        registry.add("spring.data.redis.url", LocalServices::redisUri);
        registry.add("spring.kafka.bootstrap-servers", LocalServices::kafkaBootstrap);
    }

    @LocalServerPort
    int port;
    @LocalManagementPort
    int managementPort;
    @Autowired
    RentalsReadiness readiness;

    private WebTestClient api;
    private WebTestClient management;

    @BeforeEach
    void clients() {
        api = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + port)
                .responseTimeout(Duration.ofSeconds(30)).build();
        management = WebTestClient.bindToServer().baseUrl("http://127.0.0.1:" + managementPort)
                .responseTimeout(Duration.ofSeconds(30)).build();
    }

    // --- structure ------------------------------------------------------------------------------------------

    @Test
    void everyDashboardIsWellFormedAndUsesOnlyProvisionedDataSources() throws IOException {
        Map<String, String> datasources = provisionedDataSources();
        assertThat(datasources).as("provisioned data sources (uid -> type) in " + DATASOURCES)
                .containsEntry("prometheus", "prometheus").containsEntry("loki", "loki");
        assertThat(Files.readString(DATASOURCES)).as("data source URLs from the environment")
                .containsPattern("url: \\$\\{?PROMETHEUS_URL\\b").containsPattern("url: \\$\\{?LOKI_URL_QUERY\\b");

        Map<Path, JsonNode> dashboards = dashboards();
        assertThat(dashboards).as("dashboards in " + DASHBOARDS.toAbsolutePath().normalize()).isNotEmpty();
        Set<String> uids = new LinkedHashSet<>();
        for (Map.Entry<Path, JsonNode> entry : dashboards.entrySet()) {
            String file = entry.getKey().getFileName().toString();
            JsonNode dashboard = entry.getValue();

            String uid = text(dashboard, "uid", file);
            assertThat(uids.add(uid)).as(file + ": uid '" + uid + "' is used by another dashboard").isTrue();
            assertThat(uid).as(file + ": uid").matches("[A-Za-z0-9_-]{1,40}");
            text(dashboard, "title", file);
            assertThat(dashboard.path("schemaVersion").isInt() ? dashboard.path("schemaVersion").intValue() : -1)
                    .as(file + ": schemaVersion").isEqualTo(39);
            assertThat(dashboard.path("tags").isArray() && !dashboard.path("tags").isEmpty())
                    .as(file + ": tags").isTrue();
            text(dashboard.path("time"), "from", file + " time");
            text(dashboard.path("time"), "to", file + " time");

            Set<String> variables = templateVariables(dashboard, file);
            List<JsonNode> panels = panels(dashboard);
            assertThat(panels).as(file + ": panels").isNotEmpty();
            Set<Integer> ids = new LinkedHashSet<>();
            for (JsonNode panel : panels) {
                String where = file + " panel '" + panel.path("title").asString("") + "'";
                assertThat(panel.path("id").isInt()).as(where + ": id").isTrue();
                assertThat(ids.add(panel.path("id").intValue()))
                        .as(where + ": id " + panel.path("id") + " is not unique").isTrue();
                text(panel, "title", where);
                assertThat(PANEL_TYPES).as(where + ": type").contains(text(panel, "type", where));
                JsonNode grid = panel.path("gridPos");
                for (String key : List.of("h", "w", "x", "y")) {
                    assertThat(grid.path(key).isInt()).as(where + ": gridPos." + key).isTrue();
                }
                assertThat(grid.path("w").intValue()).as(where + ": gridPos.w").isBetween(1, 24);
                assertThat(grid.path("x").intValue() + grid.path("w").intValue()).as(where + ": gridPos x + w")
                        .isLessThanOrEqualTo(24);
                if (panel.path("type").asString().equals("row") || panel.path("type").asString().equals("text")) {
                    continue;
                }
                JsonNode targets = panel.path("targets");
                assertThat(targets.isArray() && !targets.isEmpty()).as(where + ": targets").isTrue();
                Set<String> refIds = new LinkedHashSet<>();
                for (JsonNode target : targets) {
                    String refId = text(target, "refId", where + " target");
                    assertThat(refIds.add(refId)).as(where + ": refId " + refId + " is not unique").isTrue();
                    String expr = text(target, "expr", where + " target " + refId);
                    for (String variable : variablesIn(expr)) {
                        assertThat(variables).as(where + " target " + refId + ": $" + variable + " is not a template"
                                + " variable of the dashboard nor a Grafana built-in").contains(variable);
                    }
                    if ("prometheus".equals(datasourceType(panel, target, datasources))) {
                        assertThat(rangeSelectors(expr)).as(where + " target " + refId
                                + ": rate()/increase() windows are $__rate_interval (or $__range for totals)")
                                .allMatch(range -> range.equals("$__rate_interval") || range.equals("$__range"));
                    }
                }
            }
            // Every data source reference, wherever it is (panels, targets, variables): by uid, provisioned.
            forEachDatasource(dashboard, file, (where, ref) -> {
                assertThat(ref.isObject()).as(where + ": data source must be {type, uid}, not " + ref).isTrue();
                String dsUid = ref.path("uid").asString("");
                assertThat(datasources).as(where + ": data source uid '" + dsUid + "' is not provisioned in "
                        + DATASOURCES).containsKey(dsUid);
                assertThat(ref.path("type").asString("")).as(where + ": type of data source " + dsUid)
                        .isEqualTo(datasources.get(dsUid));
            });
        }
    }

    @Test
    void lokiQueriesSelectStreamsOnlyByTheLabelsLokiHas() throws IOException {
        Map<String, String> datasources = provisionedDataSources();
        int lokiTargets = 0;
        for (Map.Entry<Path, JsonNode> entry : dashboards().entrySet()) {
            for (JsonNode panel : panels(entry.getValue())) {
                for (JsonNode target : panel.path("targets")) {
                    if (!"loki".equals(datasourceType(panel, target, datasources))) {
                        continue;
                    }
                    lokiTargets++;
                    String expr = target.path("expr").asString("");
                    String where = entry.getKey().getFileName() + " panel '" + panel.path("title").asString() + "': "
                            + expr;
                    List<String> selectors = LogQl.streamSelectors(expr);
                    assertThat(selectors).as(where + ": stream selectors").isNotEmpty();
                    for (String selector : selectors) {
                        Map<String, String> matchers = LogQl.matchers(selector);
                        assertThat(matchers.keySet()).as(where + ": labels of " + selector).isNotEmpty()
                                .isSubsetOf(LOKI_LABELS);
                        assertThat(LogQl.hasNonEmptyEqualityMatcher(selector))
                                .as(where + ": Loki needs one label=\"value\" matcher in " + selector).isTrue();
                    }
                }
            }
        }
        assertThat(lokiTargets).as("Loki targets in the dashboards").isPositive();
    }

    @Test
    void theMetricExtractorSeesMetricsNotLabelsFunctionsOrVariables() {
        assertThat(PromQl.metricNames("sum by (uri, le) (rate(http_server_requests_seconds_bucket{uri!~\"/act.*\","
                + " status=~\"5..\", instance=~\"$instance\"}[$__rate_interval])) / on (instance) group_left(version)"
                + " jvm_info > 1e3 offset 5m"))
                .containsExactlyInAnyOrder("http_server_requests_seconds_bucket", "jvm_info");
        assertThat(PromQl.metricNames("histogram_quantile(0.99, sum(rate(x_seconds_bucket{a=\"b\"}[5m])) by (le))"
                + " and ignoring(le) y_total unless count without (instance) (z)"))
                .containsExactlyInAnyOrder("x_seconds_bucket", "y_total", "z");
        assertThat(PromQl.metricNames("sum(jvm_memory_max_bytes{area=\"heap\"} > 0) + vector(0.005) - time()"))
                .containsExactly("jvm_memory_max_bytes");
        assertThat(PromQl.metricNames("label_values(gateway_scoring_queue_depth{service=\"gateway\"}, instance)"))
                .containsExactly("gateway_scoring_queue_depth");
        assertThat(PromQl.metricNames("vector(0.2)")).isEmpty();
    }

    // --- metric names against the real scrape -----------------------------------------------------------------

    @Test
    void everyGatewayMetricTheDashboardsQueryIsInTheGatewaysPrometheusScrape() throws Exception {
        Map<String, Set<String>> queried = queriedMetrics(APP_PREFIXES); // name -> where it is queried
        assertThat(queried).as("gateway metrics queried by the dashboards").isNotEmpty();

        await("rentals readiness (migrations + base model)", Duration.ofSeconds(90), readiness::isReady);
        Exposition atStartUp = scrape();

        exerciseTheApi();
        // Some meters register asynchronously (GC pauses: on the first GC notification): poll a little.
        System.gc();
        GrafanaDashboards.assertQueriedMetricsExposed("gateway",
                "a /reg/ request, a regno predict and two rentals predictions", queried, atStartUp, this::scrape);
    }

    /** A /reg/ request, a regno predict and two rentals predictions (a model miss, then a memory hit). */
    private void exerciseTheApi() throws IOException {
        String regno = Files.readString(SAMPLE_REGNO, StandardCharsets.UTF_8);
        post("/reg/", regno);
        post("/v1/regno/predict", regno);
        BikeSharingData.Hour hour = BikeSharingData.load().get(12_000);
        String user = "grafana-" + UUID.randomUUID().toString().substring(0, 8);
        post("/v1/rentals/" + user + "/predict", rentalsBody(hour));
        post("/v1/rentals/" + user + "/predict", rentalsBody(hour));
    }

    private void post(String path, String body) {
        api.post().uri(path).header("x-api-key", KEY).contentType(MediaType.APPLICATION_JSON).bodyValue(body)
                .exchange().expectStatus().isOk();
    }

    private static String rentalsBody(BikeSharingData.Hour hour) {
        StringBuilder json = new StringBuilder("{\"features\":{");
        for (int i = 0; i < RentalFeatures.COUNT; i++) {
            json.append(i == 0 ? "" : ",").append('"').append(RentalFeatures.NAMES.get(i)).append("\":")
                    .append(hour.features()[i]);
        }
        return json.append("}}").toString();
    }

    private Exposition scrape() {
        byte[] body = management.get().uri("/actuator/prometheus").accept(MediaType.TEXT_PLAIN).exchange()
                .expectStatus().isOk().expectBody().returnResult().getResponseBody();
        return Exposition.parse(new String(body, StandardCharsets.UTF_8));
    }

    private static void await(String what, Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    // --- reading the dashboards ---------------------------------------------------------------------------------

    static Map<Path, JsonNode> dashboards() throws IOException {
        return GrafanaDashboards.load();
    }

    /** uid -> type of each data source in datasources.yml. */
    static Map<String, String> provisionedDataSources() {
        YamlMapFactoryBean yaml = new YamlMapFactoryBean();
        yaml.setResources(new FileSystemResource(DATASOURCES));
        Map<String, Object> root = yaml.getObject();
        Map<String, String> byUid = new LinkedHashMap<>();
        if (root != null && root.get("datasources") instanceof List<?> list) {
            for (Object item : list) {
                if (item instanceof Map<?, ?> ds && ds.get("uid") != null) {
                    byUid.put(String.valueOf(ds.get("uid")), String.valueOf(ds.get("type")));
                }
            }
        }
        return byUid;
    }

    static List<JsonNode> panels(JsonNode dashboard) {
        return GrafanaDashboards.panels(dashboard);
    }

    private static Set<String> templateVariables(JsonNode dashboard, String file) {
        Set<String> names = new LinkedHashSet<>(GRAFANA_BUILTINS);
        for (JsonNode variable : dashboard.path("templating").path("list")) {
            String name = text(variable, "name", file + " template variable");
            assertThat(names.add(name)).as(file + ": template variable " + name + " is defined twice").isTrue();
        }
        return names;
    }

    /** Grafana variables ($name, ${name}, ${name:format}) in a query. */
    private static Set<String> variablesIn(String expr) {
        Set<String> names = new LinkedHashSet<>();
        Matcher m = Pattern.compile("\\$\\{(\\w+)(?::[^}]*)?}|\\$(\\w+)").matcher(expr);
        while (m.find()) {
            names.add(m.group(1) != null ? m.group(1) : m.group(2));
        }
        return names;
    }

    /** The windows of rate(), irate() and increase() ranges, e.g. "$__rate_interval". */
    private static List<String> rangeSelectors(String expr) {
        List<String> ranges = new ArrayList<>();
        Matcher m = Pattern.compile("\\b(?:rate|irate|increase)\\s*\\([^\\[]*\\[([^\\]]*)]").matcher(expr);
        while (m.find()) {
            ranges.add(m.group(1).trim());
        }
        return ranges;
    }

    /** The type of the data source a target queries: its own reference, else its panel's. */
    static String datasourceType(JsonNode panel, JsonNode target, Map<String, String> provisioned) {
        JsonNode ref = target.path("datasource").isObject() ? target.path("datasource") : panel.path("datasource");
        String type = ref.path("type").asString("");
        return type.isEmpty() ? provisioned.getOrDefault(ref.path("uid").asString(""), "") : type;
    }

    private static void forEachDatasource(JsonNode node, String where,
            java.util.function.BiConsumer<String, JsonNode> check) {
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> property : node.properties()) {
                if (property.getKey().equals("datasource") && !property.getValue().isNull()) {
                    check.accept(where, property.getValue());
                } else {
                    String title = node.path("title").asString(node.path("name").asString(""));
                    forEachDatasource(property.getValue(), title.isEmpty() ? where : where + " '" + title + "'", check);
                }
            }
        } else if (node.isArray()) {
            for (JsonNode item : node) {
                forEachDatasource(item, where, check);
            }
        }
    }

    /** Metric name -> where it is queried, for the app's metrics in every PromQL target and query variable. */
    static Map<String, Set<String>> queriedMetrics(List<String> prefixes) throws IOException {
        Map<String, String> datasources = provisionedDataSources();
        return GrafanaDashboards.queriedMetrics(prefixes,
                (panel, target) -> "prometheus".equals(datasourceType(panel, target, datasources)));
    }

    private static String text(JsonNode node, String field, String where) {
        JsonNode value = node.path(field);
        assertThat(value.isString() && !value.stringValue().isBlank()).as(where + ": " + field).isTrue();
        return value.stringValue();
    }

}
