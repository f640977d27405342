package io.mlgateway.loadtests.replay;

import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.modelstore.NewModel;
import io.mlgateway.retrain.Sample;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.shared.training.BoosterTrainer;
import io.mlgateway.shared.training.TrainingSet;
import io.mlgateway.shared.trees.ScoringModel;
import io.mlgateway.shared.trees.TreeModel;
import io.mlgateway.retrain.ModelFitter;
import io.mlgateway.retrain.RetrainProperties;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/**
 * Replays 2012 hour by hour for one user, in-process, through the retrainer's own {@link ModelFitter}: each hour is
 * predicted by the user's champion, its true count arrives, and every {@code threshold} actuals the policy fits a
 * challenger that is promoted or rejected exactly as the retrainer does. Same data and order as the live replay, in
 * seconds instead of minutes, so policies can be compared.
 *
 * <p>{@code java -cp … io.mlgateway.loadtests.replay.OfflineReplay [--hours N] [--only substring] [--out DIR]}
 */
public final class OfflineReplay {

    private OfflineReplay() {
    }

    /** What one policy did over the replay. */
    record Result(String name, float[] predictions, int promoted, int rejected, int maxOwnTrees, double fitMillis,
            int judged, int regressed, int maxModelBytes) {

        Result(String name, float[] predictions, int promoted, int rejected, int maxOwnTrees, double fitMillis) {
            this(name, predictions, promoted, rejected, maxOwnTrees, fitMillis, 0, 0, 0);
        }
    }

    public static void main(String[] args) throws Exception {
        // Library chatter (Logback's default is DEBUG to the console) would bury the figures.
        ((ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME))
                .setLevel(ch.qos.logback.classic.Level.WARN);
        int hours = Integer.MAX_VALUE;
        String only = null;
        Path out = Path.of("load-tests/target/replay");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--hours" -> hours = Integer.parseInt(args[++i]);
                case "--only" -> only = args[++i];
                case "--out" -> out = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        List<BikeSharingData.Hour> year2012 = BikeSharingData.where(h -> !h.isYear2011());
        List<BikeSharingData.Hour> replay = year2012.subList(0, Math.min(hours, year2012.size()));
        ModelRecord base = baseRecord();
        float[] actuals = new float[replay.size()];
        for (int i = 0; i < actuals.length; i++) {
            actuals[i] = replay.get(i).count();
        }
        float[] frozen = base.model().bind(null).predictAll(TrainingSet.of(replay).features(), replay.size());

        System.out.printf(Locale.ROOT, "%d hours of 2012 for one user; MAE over all, first 2,000 hours%n", replay.size());
        System.out.printf(Locale.ROOT, "%-62s %7s %7s %6s %6s %6s %7s %9s %8s%n", "policy", "MAE", "MAE2k", "promo",
                "reject", "trees", "fit ms", "worse", "KB/user");
        print(new Result("frozen base model", frozen, 0, 0, 0, 0), actuals);
        List<Result> results = new ArrayList<>();
        results.add(new Result("frozen base model", frozen, 0, 0, 0, 0));
        for (Map.Entry<String, RetrainProperties> policy : ReplayPolicies.all().entrySet()) {
            if (only != null && !policy.getKey().contains(only)) {
                continue;
            }
            Result result = run(policy.getKey(), policy.getValue(), base, replay);
            print(result, actuals);
            results.add(result);
        }
        Path page = ReplayPlot.write(out.resolve("offline.html"), "Offline replay: rolling MAE (one week) over 2012",
                replay, actuals, results);
        System.out.println("plot: " + page.toAbsolutePath());
    }

    /** Runs one policy over the hours, exactly as the retrainer would for one user. */
    static Result run(String name, RetrainProperties properties, ModelRecord base, List<BikeSharingData.Hour> hours) {
        ModelFitter fitter = new ModelFitter(properties);
        ModelFitter.Current current = new ModelFitter.Current(base, null, base);
        ScoringModel baseScoring = base.model().bind(null);
        ScoringModel champion = baseScoring;
        List<Sample> fresh = new ArrayList<>();
        List<Sample> used = new ArrayList<>(); // oldest first
        float[] predictions = new float[hours.size()];
        int promoted = 0;
        int rejected = 0;
        int maxOwn = 0;
        long fitNanos = 0;
        int fits = 0;
        int judged = 0;
        int regressed = 0;
        int maxBytes = 0;
        long version = base.version();
        for (int i = 0; i < hours.size(); i++) {
            BikeSharingData.Hour hour = hours.get(i);
            predictions[i] = champion.predict(hour.features(), 0);
            fresh.add(new Sample(i, UUID.randomUUID(), hour.features(), hour.count(), predictions[i],
                    current.model().version()));
            if (fresh.size() < properties.threshold()) {
                continue;
            }
            List<Sample> recent = newestFirst(used, fitter.windowNeeded(current));
            long started = System.nanoTime();
            ModelFitter.Candidate candidate = fitter.fit(current, List.copyOf(fresh), recent);
            fitNanos += System.nanoTime() - started;
            fits++;
            if (!Double.isNaN(candidate.live().predecessor())) {
                judged++;
                regressed += candidate.live().regressed(properties.liveRegressionTolerance()) ? 1 : 0;
            }
            version++;
            if (candidate.accepted()) {
                promoted++;
                maxOwn = Math.max(maxOwn, candidate.model().trees().trees());
                ModelRecord record = record(version, current.model().version(), candidate);
                maxBytes = Math.max(maxBytes, record.bytes().length);
                current = new ModelFitter.Current(record, record.baseVersion() == null ? null : base, base,
                        current.model());
                champion = candidate.model().bind(candidate.model().isLayered() ? baseScoring : null);
            } else {
                rejected++;
            }
            used.addAll(fresh);
            fresh.clear();
        }
        return new Result(name, predictions, promoted, rejected, maxOwn, fits == 0 ? 0 : fitNanos / 1e6 / fits, judged,
                regressed, maxBytes);
    }

    private static List<Sample> newestFirst(List<Sample> oldestFirst, int limit) {
        List<Sample> rows = new ArrayList<>(Math.min(limit, oldestFirst.size()));
        for (int i = oldestFirst.size() - 1; i >= 0 && rows.size() < limit; i--) {
            rows.add(oldestFirst.get(i));
        }
        return rows;
    }

    /** The base model as the gateway trains it on first start (BaseModelBootstrap): 2011, 200 rounds. */
    static ModelRecord baseRecord() {
        TreeModel model = BoosterTrainer.fitStandalone(TrainingSet.of(BikeSharingData.where(
                BikeSharingData.Hour::isYear2011)), BoosterTrainer.BASE_ROUNDS);
        return toRecord(1, null, NewModel.of(ModelRegistry.BASE_USER, null, model, 0, "{}"));
    }

    private static ModelRecord record(long version, long parent, ModelFitter.Candidate candidate) {
        return toRecord(version, parent, NewModel.of("replay", parent, candidate.model(), candidate.baseTrees(),
                candidate.metrics()));
    }

    private static ModelRecord toRecord(long version, Long parent, NewModel model) {
        return new ModelRecord(version, model.userId(), parent, model.format(), model.bytes(), model.numTrees(),
                model.baseVersion(), model.ownTrees(), model.metrics(), ModelRegistry.ACTIVE, OffsetDateTime.now());
    }

    static double mae(float[] predictions, float[] actuals, int from, int to) {
        double sum = 0;
        for (int i = from; i < to; i++) {
            sum += Math.abs(predictions[i] - actuals[i]);
        }
        return sum / (to - from);
    }

    private static void print(Result r, float[] actuals) {
        int n = actuals.length;
        System.out.printf(Locale.ROOT, "%-62s %7.2f %7.2f %6d %6d %6d %7.1f %4d/%-4d %8.1f%n", r.name(),
                mae(r.predictions(), actuals, 0, n), mae(r.predictions(), actuals, 0, Math.min(2000, n)), r.promoted(),
                r.rejected(), r.maxOwnTrees(), r.fitMillis(), r.regressed(), r.judged(), r.maxModelBytes() / 1024.0);
    }
}
