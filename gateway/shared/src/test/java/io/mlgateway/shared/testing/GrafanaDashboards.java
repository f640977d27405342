package io.mlgateway.shared.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BiPredicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.assertj.core.api.SoftAssertions;
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

    /** Reads the app's {@code /actuator/prometheus} now. */
    @FunctionalInterface
    public interface Scrape {
        Exposition get() throws Exception;
    }

    /**
     * Every metric the dashboards query is exposed by the app after it was used: scrapes until none is missing
     * (at most 10 s: some meters register on the first GC notification), then fails, listing where each missing
     * metric is queried, on a family exposed under another sample name (wrong suffix) or one not exposed at all
     * (a meter registered lazily, or a misspelt name). Prints which were absent at start-up.
     *
     * @param app what is scraped ("gateway", "retrainer")
     * @param use what was done to the app between {@code atStartUp} and now, for the messages
     */
    public static void assertQueriedMetricsExposed(String app, String use, Map<String, Set<String>> queried,
            Exposition atStartUp, Scrape scrape) throws Exception {
        Exposition afterUse = scrape.get();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!afterUse.missing(queried.keySet()).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(250);
            afterUse = scrape.get();
        }
        Set<String> lazyButCreatedByUse = new TreeSet<>(atStartUp.missing(queried.keySet()));
        Set<String> stillAbsent = afterUse.missing(queried.keySet());
        lazyButCreatedByUse.removeAll(stillAbsent);
        System.out.println("[" + app + " dashboards] " + queried.size() + " metrics queried; absent at start-up and"
                + " registered by " + use + " (lazily registered): " + lazyButCreatedByUse
                + "; absent even after it: " + stillAbsent);

        Set<String> wrongSuffix = new TreeSet<>();
        Set<String> lazilyRegistered = new TreeSet<>();
        for (String name : stillAbsent) {
            (afterUse.hasFamilyOf(name) ? wrongSuffix : lazilyRegistered).add(name);
        }
        Set<String> familySamples = afterUse.familySamples(wrongSuffix);
        SoftAssertions.assertSoftly(soft -> {
            soft.assertThat(wrongSuffix).as("metrics whose family the " + app + " exposes, but not under the queried "
                    + "sample name (wrong _bucket/_count/_sum/_total/_max suffix, or a histogram without buckets): "
                    + where(wrongSuffix, queried) + "; the family's exposed samples: " + familySamples).isEmpty();
            soft.assertThat(lazilyRegistered).as("metrics the dashboards query that the " + app + " does not expose, "
                    + "even after " + use + ": " + where(lazilyRegistered, queried)
                    + ".\nUnless the dashboard misspells them, these meters are registered lazily (absent from "
                    + "/actuator/prometheus until first used): register them eagerly, with each of their label "
                    + "values, so the dashboards (and rate() alerts) see them from start-up. Also absent at start-up "
                    + "but created by " + use + ": " + lazyButCreatedByUse).isEmpty();
        });
    }

    /** Each name with the panels that query it. */
    public static String where(Set<String> names, Map<String, Set<String>> queried) {
        return names.stream().map(n -> n + " (in " + String.join(", ", queried.get(n)) + ")")
                .collect(Collectors.joining("; ", "[", "]"));
    }
}
