package io.mlgateway.loadtests.gatling;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Recorder;

/**
 * The stress schedule (a warm-up at the start rate, then levels from the start rate, +step per level, each later
 * level reached by a {@code ramp}, then held for {@code hold}) and what
 * each level measured. A level is judged once all its requests should be back ({@code ramp} after it ended); the
 * first level whose error share or p99 crosses its bound is where the gateway stopped keeping the promise.
 * Thread-safe: Gatling records from many threads.
 */
final class StressLevels {

    /** One level's outcome. */
    record Level(int index, double rate, long requests, long errors, double p50Millis, double p99Millis,
            boolean crossed) {

        double errorPercent() {
            return requests == 0 ? 0 : 100.0 * errors / requests;
        }
    }

    private final double startRate;
    private final double step;
    private final int levels;
    private final long warmupNanos;
    private final long rampNanos;
    private final long holdNanos;
    private final double maxErrorPercent;
    private final double p99BoundMillis;
    private final Recorder[] latencies;
    private final long[] requests;
    private final long[] errors;
    private final List<Level> judged = new ArrayList<>();
    private volatile long startNanos;
    private volatile Level crossed;

    StressLevels(double startRate, double step, int levels, Duration warmup, Duration ramp, Duration hold,
            double maxErrorPercent, double p99BoundMillis) {
        if (levels < 1 || startRate <= 0 || step < 0) {
            throw new IllegalArgumentException("need levels >= 1, startRate > 0 and step >= 0");
        }
        this.startRate = startRate;
        this.step = step;
        this.levels = levels;
        this.warmupNanos = warmup.toNanos();
        this.rampNanos = ramp.toNanos();
        this.holdNanos = hold.toNanos();
        this.maxErrorPercent = maxErrorPercent;
        this.p99BoundMillis = p99BoundMillis;
        this.latencies = new Recorder[levels];
        this.requests = new long[levels];
        this.errors = new long[levels];
        for (int i = 0; i < levels; i++) {
            latencies[i] = new Recorder(3);
        }
    }

    double rate(int level) {
        return startRate + step * level;
    }

    int levels() {
        return levels;
    }

    /** Level 0 holds from the end of the warm-up; every later level is a ramp from the previous rate, then its hold. */
    private long levelStart(int level) {
        return warmupNanos + level * (rampNanos + holdNanos);
    }

    /** Whether an arrival at {@code nowNanos} is in the warm-up (at the start rate, not judged). */
    boolean inWarmUp(long nowNanos) {
        return nowNanos - startNanos < warmupNanos;
    }

    /** Starts the clock (the first arrival). */
    void startIfNeeded(long nowNanos) {
        if (startNanos == 0) {
            synchronized (this) {
                if (startNanos == 0) {
                    startNanos = nowNanos;
                }
            }
        }
    }

    /** The level whose hold an arrival at {@code nowNanos} falls in, or -1 in a ramp (ramps are not judged). */
    int levelAt(long nowNanos) {
        long t = nowNanos - startNanos;
        for (int level = 0; level < levels; level++) {
            long start = levelStart(level);
            if (t < start) {
                return -1;
            }
            if (t < start + holdNanos) {
                return level;
            }
        }
        return -1;
    }

    /** Records one answered (or failed) request of {@code level}, then judges every level that is over. */
    void record(int level, long latencyMillis, boolean failed, long nowNanos) {
        if (level >= 0) {
            synchronized (this) {
                requests[level]++;
                if (failed) {
                    errors[level]++;
                }
            }
            latencies[level].recordValue(Math.max(0, latencyMillis) * 1000);
        }
        judgeFinishedLevels(nowNanos);
    }

    private synchronized void judgeFinishedLevels(long nowNanos) {
        long t = nowNanos - startNanos;
        while (judged.size() < levels && crossed == null) {
            int level = judged.size();
            if (t < levelStart(level) + holdNanos + rampNanos) {
                return;
            }
            judged.add(judge(level));
        }
    }

    private Level judge(int level) {
        var histogram = latencies[level].getIntervalHistogram();
        double p50 = histogram.getValueAtPercentile(50) / 1000.0;
        double p99 = histogram.getValueAtPercentile(99) / 1000.0;
        Level result = new Level(level, rate(level), requests[level], errors[level], p50, p99, false);
        boolean over = requests[level] == 0 || result.errorPercent() > maxErrorPercent || p99 >= p99BoundMillis;
        if (over) {
            result = new Level(level, rate(level), requests[level], errors[level], p50, p99, true);
            crossed = result;
        }
        return result;
    }

    /** At the end of the run: judges the levels no later request has judged (the last one always). */
    synchronized void finish() {
        while (judged.size() < levels && crossed == null && requests[judged.size()] > 0) {
            judged.add(judge(judged.size()));
        }
    }

    /** The first level that crossed a bound, or null while none has. */
    Level crossed() {
        return crossed;
    }

    /** A Markdown table of the judged levels and the verdict. */
    synchronized String summary() {
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "bounds: errors <= %.2f%%, p99 < %.0f ms%n%n", maxErrorPercent, p99BoundMillis));
        out.append("| level | target req/s | requests | errors % | p50 ms | p99 ms | within bounds |\n");
        out.append("| --- | --- | --- | --- | --- | --- | --- |\n");
        for (Level l : judged) {
            out.append(String.format(Locale.ROOT, "| %d | %.0f | %d | %.2f | %.1f | %.1f | %s |%n", l.index() + 1,
                    l.rate(), l.requests(), l.errorPercent(), l.p50Millis(), l.p99Millis(), l.crossed() ? "no" : "yes"));
        }
        out.append('\n').append(verdict()).append('\n');
        return out.toString();
    }

    String verdict() {
        Level c = crossed;
        Level lastGood = null;
        for (Level l : judged) {
            if (!l.crossed()) {
                lastGood = l;
            }
        }
        if (c != null) {
            return String.format(Locale.ROOT, "crossed at %.0f req/s (errors %.2f%%, p99 %.1f ms); held %s", c.rate(),
                    c.errorPercent(), c.p99Millis(),
                    lastGood == null ? "no level" : String.format(Locale.ROOT, "%.0f req/s", lastGood.rate()));
        }
        return lastGood == null ? "no level finished"
                : String.format(Locale.ROOT, "held every level up to %.0f req/s without crossing a bound", lastGood.rate());
    }
}
