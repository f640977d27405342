package io.mlgateway.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiPredicate;
import java.util.stream.Stream;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Grafana dashboards in {@code deploy/grafana/dashboards} (paths relative to an app module), read as the
 * gateway's and the retrainer's dashboard tests both need them.
 */
public final class GrafanaDashboards {

    public static final Path DIR = Path.of("..", "deploy", "grafana", "dashboards");

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private GrafanaDashboards() {
    }

    /** Every dashboard file, parsed, by path. */
    public static Map<Path, JsonNode> load() throws IOException {
        Map<Path, JsonNode> dashboards = new TreeMap<>();
        try (Stream<Path> files = Files.list(DIR)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".json")).sorted().toList()) {
                dashboards.put(file, JSON.readTree(Files.readString(file, StandardCharsets.UTF_8)));
            }
        }
        return dashboards;
    }

    /** Every panel, rows' nested panels included. */
    public static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> all = new ArrayList<>();
        for (JsonNode panel : dashboard.path("panels")) {
            all.add(panel);
            panel.path("panels").forEach(all::add);
        }
        return all;
    }

    /**
     * Metric name -> where it is queried, for the metrics starting with one of {@code prefixes}, in every PromQL
     * target ({@code isPrometheus(panel, target)}) and Prometheus query variable. Fails on a query in which no
     * metric is found (unless it is a constant).
     */
    public static Map<String, Set<String>> queriedMetrics(List<String> prefixes,
            BiPredicate<JsonNode, JsonNode> isPrometheus) throws IOException {
        Map<String, Set<String>> queried = new TreeMap<>();
        for (Map.Entry<Path, JsonNode> entry : load().entrySet()) {
            String file = entry.getKey().getFileName().toString();
            List<String[]> exprs = new ArrayList<>(); // {where, expr}
            for (JsonNode panel : panels(entry.getValue())) {
                for (JsonNode target : panel.path("targets")) {
                    if (isPrometheus.test(panel, target)) {
                        exprs.add(new String[] {file + " '" + panel.path("title").asString("") + "'",
                                target.path("expr").asString("")});
                    }
                }
            }
            for (JsonNode variable : entry.getValue().path("templating").path("list")) {
                if ("query".equals(variable.path("type").asString(""))
                        && "prometheus".equals(variable.path("datasource").path("type").asString(""))) {
                    JsonNode query = variable.path("query");
                    exprs.add(new String[] {file + " variable $" + variable.path("name").asString(""),
                            query.isObject() ? query.path("query").asString("") : query.asString("")});
                }
            }
            for (String[] expr : exprs) {
                Set<String> names = PromQl.metricNames(expr[1]);
                assertThat(names.isEmpty() && !PromQl.isConstant(expr[1])).as(expr[0]
                        + ": no metric found in '" + expr[1] + "'").isFalse();
                for (String name : names) {
                    if (prefixes.stream().anyMatch(name::startsWith)) {
                        queried.computeIfAbsent(name, n -> new TreeSet<>()).add(expr[0]);
                    }
                }
            }
        }
        return queried;
    }
}
