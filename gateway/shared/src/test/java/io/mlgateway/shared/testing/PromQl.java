package io.mlgateway.shared.testing;

import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Metric names in a PromQL expression (or a Grafana label_values(metric, label) variable query), as far as the
 * dashboard and alert checks of both apps need them.
 */
public final class PromQl {

    private PromQl() {
    }

    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "by", "without", "on", "ignoring",
            "group_left", "group_right", "offset", "bool", "inf", "nan", "start", "end");
    private static final Set<String> FUNCTIONS = Set.of("abs", "absent", "absent_over_time", "avg", "avg_over_time",
            "bottomk", "ceil", "changes", "clamp", "clamp_max", "clamp_min", "count", "count_over_time",
            "count_values", "day_of_month", "day_of_week", "day_of_year", "days_in_month", "delta", "deriv", "exp",
            "floor", "group", "histogram_avg", "histogram_count", "histogram_fraction", "histogram_quantile",
            "histogram_sum", "holt_winters", "hour", "idelta", "increase", "irate", "label_join", "label_replace",
            "label_values", "last_over_time", "limitk", "limit_ratio", "ln", "log10", "log2", "max",
            "max_over_time", "min", "min_over_time", "minute", "month", "predict_linear", "present_over_time",
            "quantile", "quantile_over_time", "query_result", "rate", "resets", "round", "scalar", "sgn", "sort",
            "sort_desc", "sqrt", "stddev", "stddev_over_time", "stdvar", "stdvar_over_time", "sum",
            "sum_over_time", "time", "timestamp", "topk", "vector", "year", "atan2");
    private static final Pattern LABEL_VALUES = Pattern.compile("^\\s*label_values\\s*\\((.*),\\s*\\w+\\s*\\)\\s*$",
            Pattern.DOTALL);
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w:.$])([A-Za-z_:][\\w:]*+)(?!\\s*\\()");

    public static Set<String> metricNames(String expr) {
        Matcher labelValues = LABEL_VALUES.matcher(expr);
        String s = labelValues.matches() ? labelValues.group(1) : expr;
        s = s.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")          // string literals
                .replaceAll("'(?:[^'\\\\]|\\\\.)*'", "''")
                .replaceAll("`[^`]*`", "``")
                .replaceAll("\\{[^}]*}", " ")                            // label matchers
                .replaceAll("\\[[^\\]]*]", " ")                          // ranges and subqueries
                .replaceAll("\\b(?:by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ")
                .replaceAll("\\$\\{[^}]*}|\\$\\w+", " ");                // Grafana variables
        Set<String> names = new TreeSet<>();
        Matcher m = IDENTIFIER.matcher(s);
        while (m.find()) {
            String name = m.group(1);
            if (!KEYWORDS.contains(name.toLowerCase()) && !FUNCTIONS.contains(name)) {
                names.add(name);
            }
        }
        return names;
    }

    /** A constant reference line such as vector(0.2), or a bare number. */
    public static boolean isConstant(String expr) {
        return expr.matches("\\s*(?:vector\\s*\\(\\s*[-+]?[\\d.]+(?:[eE][-+]?\\d+)?\\s*\\)|[-+]?[\\d.]+)\\s*");
    }
}
