package io.mlgateway.loadtests.replay;

import io.mlgateway.shared.training.BikeSharingData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * A self-contained HTML page (inline SVG, no script, no network) plotting each policy's rolling MAE over the
 * replayed hours, one line per policy, and a table of the totals.
 */
final class ReplayPlot {

    /** Rolling window: one week of hours. */
    static final int WINDOW = 168;

    private static final String[] COLOURS = {"#444444", "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e",
            "#8c564b", "#e377c2", "#17becf", "#bcbd22"};

    private ReplayPlot() {
    }

    static Path write(Path file, String title, List<BikeSharingData.Hour> hours, float[] actuals,
            List<OfflineReplay.Result> results) throws IOException {
        int n = actuals.length;
        double[][] rolling = new double[results.size()][];
        double top = 1;
        for (int r = 0; r < results.size(); r++) {
            rolling[r] = rollingMae(results.get(r).predictions(), actuals);
            for (double v : rolling[r]) {
                top = Math.max(top, v);
            }
        }
        top = Math.ceil(top / 20) * 20;
        int width = 1000;
        int height = 420;
        int left = 50;
        int bottom = 30;
        StringBuilder svg = new StringBuilder();
        svg.append(String.format(Locale.ROOT, "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d'"
                + " font-family='sans-serif' font-size='11'>", width + 20, height + 20));
        for (int t = 0; t <= 4; t++) {
            double v = top * t / 4;
            double y = y(v, top, height, bottom);
            svg.append(String.format(Locale.ROOT, "<line x1='%d' x2='%d' y1='%.1f' y2='%.1f' stroke='#ddd'/>"
                    + "<text x='4' y='%.1f'>%.0f</text>", left, width, y, y, y + 4, v));
        }
        for (int i = 0; i < n - n / 10; i += Math.max(1, n / 8)) {
            double x = x(i, n, left, width);
            svg.append(String.format(Locale.ROOT, "<text x='%.1f' y='%d'>%s</text>", x, height - 8,
                    hours.get(i).date()));
        }
        for (int r = 0; r < results.size(); r++) {
            StringBuilder points = new StringBuilder();
            for (int i = 0; i < n; i++) {
                points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x(i, n, left, width),
                        y(rolling[r][i], top, height, bottom)));
            }
            svg.append(String.format(Locale.ROOT, "<polyline fill='none' stroke='%s' stroke-width='%s' points='%s'/>",
                    COLOURS[r % COLOURS.length], r == 0 ? "2" : "1.2", points));
        }
        svg.append("</svg>");

        StringBuilder table = new StringBuilder("<table><tr><th></th><th>policy</th><th>MAE</th>"
                + "<th>MAE first 2,000 h</th><th>promoted</th><th>rejected</th><th>own trees (max)</th>"
                + "<th>fit ms (mean)</th></tr>");
        for (int r = 0; r < results.size(); r++) {
            OfflineReplay.Result result = results.get(r);
            table.append(String.format(Locale.ROOT, "<tr><td style='background:%s'>&nbsp;&nbsp;</td><td>%s</td>"
                            + "<td>%.2f</td><td>%.2f</td><td>%d</td><td>%d</td><td>%d</td><td>%.1f</td></tr>",
                    COLOURS[r % COLOURS.length], escape(result.name()),
                    OfflineReplay.mae(result.predictions(), actuals, 0, n),
                    OfflineReplay.mae(result.predictions(), actuals, 0, Math.min(2000, n)), result.promoted(),
                    result.rejected(), result.maxOwnTrees(), result.fitMillis()));
        }
        table.append("</table>");
        String page = "<!doctype html><html><head><meta charset='utf-8'><title>" + escape(title) + "</title>"
                + "<style>body{font-family:sans-serif;margin:20px}td,th{padding:2px 8px;text-align:right}"
                + "td:nth-child(2),th:nth-child(2){text-align:left}</style></head><body><h2>" + escape(title)
                + "</h2><p>" + n + " hours; each line is the mean absolute error of the last " + WINDOW
                + " hours' predictions (as they were served, before their true count was known).</p>" + svg
                + table + "</body></html>";
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.writeString(file, page);
        return file;
    }

    static double[] rollingMae(float[] predictions, float[] actuals) {
        double[] rolling = new double[actuals.length];
        double sum = 0;
        for (int i = 0; i < actuals.length; i++) {
            sum += Math.abs(predictions[i] - actuals[i]);
            if (i >= WINDOW) {
                sum -= Math.abs(predictions[i - WINDOW] - actuals[i - WINDOW]);
            }
            rolling[i] = sum / Math.min(i + 1, WINDOW);
        }
        return rolling;
    }

    private static double x(int i, int n, int left, int width) {
        return left + (double) i / Math.max(1, n - 1) * (width - left);
    }

    private static double y(double v, double top, int height, int bottom) {
        return (height - bottom) - v / top * (height - bottom - 10);
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}
