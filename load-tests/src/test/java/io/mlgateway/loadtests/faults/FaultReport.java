package io.mlgateway.loadtests.faults;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * One fault's tables for docs/RELIABILITY.md: load held (offered and answered per second before, during and after
 * the fault), answers by HTTP status, records in versus records out. Written to {@code target/faults/<id>.md} and
 * printed; load-tests/bench/faults.sh collects the files of a full run.
 */
final class FaultReport {

    private final String id;
    private final String title;
    private final String settings;
    private final List<String[]> phases = new ArrayList<>();
    private final Map<String, Map<Integer, Long>> statuses = new LinkedHashMap<>();
    private final List<String[]> records = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    FaultReport(String id, String title, String settings) {
        this.id = id;
        this.title = title;
        this.settings = settings;
    }

    /** One phase [from, to) in the load's seconds. The last, partial second of each phase is left out of min. */
    void phase(String name, PacedLoad load, int from, int to) {
        long[] offered = load.offered(from, to);
        long[] answered = load.answered(from, to);
        phases.add(new String[] {name, Integer.toString(to - from), format(mean(offered)), format(mean(answered)),
                Long.toString(min(answered)), Long.toString(max(answered))});
    }

    void statuses(String kind, Map<Integer, Long> counts) {
        statuses.put(kind, counts);
    }

    void record(String what, Object in, Object out) {
        records.add(new String[] {what, String.valueOf(in), String.valueOf(out)});
    }

    void note(String note) {
        notes.add(note);
    }

    String markdown() {
        StringBuilder md = new StringBuilder("### ").append(title).append("\n\n").append(settings).append("\n\n");
        md.append("| phase | seconds | offered/s | answered/s (mean) | answered/s (min) | answered/s (max) |\n")
                .append("| --- | ---: | ---: | ---: | ---: | ---: |\n");
        for (String[] p : phases) {
            md.append("| ").append(String.join(" | ", p)).append(" |\n");
        }
        TreeSet<Integer> codes = new TreeSet<>();
        statuses.values().forEach(m -> codes.addAll(m.keySet()));
        md.append("\n| answers | ");
        codes.forEach(c -> md.append(label(c)).append(" | "));
        md.append("\n| --- |");
        codes.forEach(c -> md.append(" ---: |"));
        md.append('\n');
        statuses.forEach((kind, counts) -> {
            md.append("| ").append(kind).append(" |");
            codes.forEach(c -> md.append(' ').append(counts.getOrDefault(c, 0L)).append(" |"));
            md.append('\n');
        });
        md.append("\n| records | in | out |\n| --- | ---: | ---: |\n");
        for (String[] r : records) {
            md.append("| ").append(String.join(" | ", r)).append(" |\n");
        }
        if (!notes.isEmpty()) {
            md.append('\n');
            notes.forEach(n -> md.append("- ").append(n).append('\n'));
        }
        return md.append('\n').toString();
    }

    void write() throws IOException {
        Path file = Path.of("target/faults", id + ".md");
        Files.createDirectories(file.getParent());
        Files.writeString(file, markdown());
        System.out.println(markdown());
    }

    private static String label(int code) {
        return switch (code) {
            case PacedLoad.NO_CONNECTION -> "no connection";
            case PacedLoad.TIMED_OUT -> "timed out";
            default -> Integer.toString(code);
        };
    }

    private static double mean(long[] values) {
        long sum = 0;
        for (long v : values) {
            sum += v;
        }
        return values.length == 0 ? 0 : (double) sum / values.length;
    }

    private static long min(long[] values) {
        long min = Long.MAX_VALUE;
        for (long v : values) {
            min = Math.min(min, v);
        }
        return values.length == 0 ? 0 : min;
    }

    private static long max(long[] values) {
        long max = 0;
        for (long v : values) {
            max = Math.max(max, v);
        }
        return max;
    }

    private static String format(double v) {
        return String.format(java.util.Locale.ROOT, "%.0f", v);
    }
}
