package io.mlgateway.loadtests.footprint;

import biz.k11i.xgboost.Predictor;
import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.mlgateway.shared.modelstore.ModelFormat;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.shared.training.BoosterTrainer;
import io.mlgateway.shared.training.TrainingSet;
import io.mlgateway.shared.trees.CompactTrees;
import io.mlgateway.shared.trees.XGBoostTrees;
import io.mlgateway.shared.trees.ScoringModel;
import io.mlgateway.shared.trees.TreeEnsemble;
import io.mlgateway.shared.trees.TreeModel;
import io.mlgateway.modelstore.MemoryTier;
import io.mlgateway.modelstore.ServedModel;
import java.io.ByteArrayInputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import ml.dmlc.xgboost4j.java.Booster;
import ml.dmlc.xgboost4j.java.XGBoost;

/**
 * What a user with a model of its own really costs in memory, measured rather than computed: the heap (after full
 * GCs) and the resident set grown by holding {@code USERS} users' models.
 *
 * <p>First, users with a model as the update policy makes it (50 own trees of depth 6 fitted over the base's
 * predictions on 4,000 hours, 20 distinct models, each user holding its own decoded copy): held as the gateway holds
 * them ({@link CompactTrees}, in a Caffeine async cache as {@link MemoryTier} keeps them), beside the weight the tier
 * charges, and, for comparison, in the full node form (16 bytes a node) the gateway held before.
 *
 * <p>Then the base plus 10 trees of its own fitted on 40 of a user's hours, in three engines:
 * <ul>
 *   <li>the gateway's: a {@link ServedModel} per user layered on one shared base, in a Caffeine async cache keyed
 *       by user as {@link MemoryTier} holds them; printed beside the weight the resolver charges for them;</li>
 *   <li>ai.h2o:xgboost-predictor: a {@code Predictor} per user holding the whole continued model (210 trees);</li>
 *   <li>xgboost4j: a {@code Booster} per user (native memory, so the resident set is what grows).</li>
 * </ul>
 * {@code java -cp … io.mlgateway.loadtests.footprint.ModelFootprint [users=2000] [policy users=5000]}
 */
public final class ModelFootprint {

    private ModelFootprint() {
    }

    public static void main(String[] args) throws Exception {
        int users = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
        List<BikeSharingData.Hour> hours = BikeSharingData.load();
        Booster base = BoosterTrainer.trainBooster(TrainingSet.of(hours.stream()
                .filter(BikeSharingData.Hour::isYear2011).toList()), BoosterTrainer.BASE_ROUNDS);
        TreeModel baseModel = XGBoostTrees.standalone(base);
        ScoringModel baseScoring = baseModel.bind(null);
        List<BikeSharingData.Hour> year2012 = hours.stream().filter(h -> !h.isYear2011()).toList();
        policySized(args.length > 1 ? Integer.parseInt(args[1]) : 5000, baseScoring, year2012);

        // 50 distinct continued boosters, each user holding its own copy (decoded from bytes, as loads do).
        int distinct = 50;
        List<byte[]> ownBytes = new ArrayList<>();
        List<byte[]> legacyBytes = new ArrayList<>();
        List<byte[]> ubjBytes = new ArrayList<>();
        long ownTreesEncoded = 0;
        for (int d = 0; d < distinct; d++) {
            Random random = new Random(d);
            List<BikeSharingData.Hour> sample = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                sample.add(year2012.get(random.nextInt(year2012.size())));
            }
            Booster continued = BoosterTrainer.continueBooster(base, TrainingSet.of(sample), 10);
            TreeEnsemble own = XGBoostTrees.trees(continued).slice(200, 210);
            byte[] encoded = ModelFormat.encode(TreeModel.layered(1L, own));
            ownTreesEncoded += encoded.length;
            ownBytes.add(encoded);
            legacyBytes.add(continued.toByteArray("deprecated"));
            ubjBytes.add(continued.toByteArray("ubj"));
            continued.dispose();
        }
        System.out.printf("a user's 10 own trees: %,d bytes encoded (trees-v1); the whole continued model: %,d bytes"
                + " as XGBoost UBJ; the base: %,d bytes encoded, %,d bytes in memory%n", ownTreesEncoded / distinct,
                ubjBytes.get(0).length, ModelFormat.encode(baseModel).length, baseScoring.ownFootprintBytes());

        long heap0 = heap();
        long rss0 = rss();
        AsyncCache<String, ServedModel> cache = Caffeine.newBuilder().maximumWeight(Long.MAX_VALUE)
                .weigher((String u, ServedModel m) -> (int) (MemoryTier.ENTRY_BYTES + m.ownFootprintBytes()))
                .buildAsync();
        long charged = 0;
        for (int u = 0; u < users; u++) {
            TreeModel model = ModelFormat.decode(ModelFormat.TREES, ownBytes.get(u % distinct));
            ServedModel served = new ServedModel(1000L + u, false, model.bind(baseScoring));
            cache.put("user-" + u, CompletableFuture.completedFuture(served));
            charged += MemoryTier.ENTRY_BYTES + served.ownFootprintBytes();
        }
        long heap1 = heap();
        System.out.printf("engine:    %,d users: heap +%,d bytes = %,d bytes per user (the resolver charges %,d per"
                + " user); resident set +%,d bytes%n", users, heap1 - heap0, (heap1 - heap0) / users, charged / users,
                rss() - rss0);
        keep(cache);
        cache = null;

        // The other two hold a whole model per user: fewer users, or they would not fit the heap.
        int fewer = Math.min(users, 500);
        heap0 = heap();
        rss0 = rss();
        HashMap<String, Predictor> h2o = new HashMap<>();
        for (int u = 0; u < fewer; u++) {
            h2o.put("user-" + u, new Predictor(new ByteArrayInputStream(legacyBytes.get(u % distinct))));
        }
        heap1 = heap();
        System.out.printf("h2o:       %,d users: heap +%,d bytes = %,d bytes per user; resident set +%,d bytes%n",
                fewer, heap1 - heap0, (heap1 - heap0) / fewer, rss() - rss0);
        keep(h2o);
        h2o = null;

        int boosters = fewer;
        heap0 = heap();
        rss0 = rss();
        List<Booster> native_ = new ArrayList<>();
        for (int u = 0; u < boosters; u++) {
            native_.add(XGBoost.loadModel(ubjBytes.get(u % distinct)));
        }
        heap1 = heap();
        long rss1 = rss();
        System.out.printf("xgboost4j: %,d boosters: heap +%,d bytes, resident set +%,d bytes = %,d bytes per user%n",
                boosters, heap1 - heap0, rss1 - rss0, (rss1 - rss0) / boosters);
        native_.forEach(Booster::dispose);
        base.dispose();
    }

    /** Users holding models as the update policy makes them: compact as served, and in the full node form. */
    private static void policySized(int users, ScoringModel baseScoring, List<BikeSharingData.Hour> year2012)
            throws InterruptedException {
        int distinct = 20;
        List<byte[]> stored = new ArrayList<>();
        long storedBytes = 0;
        long nodes = 0;
        long complete = 0;
        for (int d = 0; d < distinct; d++) {
            int from = new Random(d).nextInt(year2012.size() - 4000 + 1);
            TrainingSet data = TrainingSet.of(year2012.subList(from, from + 4000));
            TreeEnsemble own = BoosterTrainer.fitOnMargin(data, baseScoring.predictAll(data.features(), data.rows()),
                    50);
            byte[] encoded = ModelFormat.encode(TreeModel.layered(1L, own));
            stored.add(encoded);
            storedBytes += encoded.length;
            nodes += own.nodes();
            complete += CompactTrees.of(own).completeTrees();
        }
        System.out.printf("policy-sized user (50 own trees, depth 6, 4,000 hours): %,d nodes, %d of 50 trees complete,"
                + " %,d bytes stored (%s)%n", nodes / distinct, complete / distinct, storedBytes / distinct,
                ModelFormat.TREES);

        long heap0 = heap();
        AsyncCache<String, ServedModel> cache = Caffeine.newBuilder().maximumWeight(Long.MAX_VALUE)
                .weigher((String u, ServedModel m) -> (int) (MemoryTier.ENTRY_BYTES + m.ownFootprintBytes()))
                .buildAsync();
        long charged = 0;
        for (int u = 0; u < users; u++) {
            TreeModel model = ModelFormat.decode(ModelFormat.TREES, stored.get(u % distinct));
            ServedModel served = new ServedModel(1000L + u, false, model.bind(baseScoring));
            cache.put("user-" + u, CompletableFuture.completedFuture(served));
            charged += MemoryTier.ENTRY_BYTES + served.ownFootprintBytes();
        }
        long heap1 = heap();
        System.out.printf("compact:   %,d users: heap +%,d bytes = %,d bytes per user (the tier charges %,d)%n", users,
                heap1 - heap0, (heap1 - heap0) / users, charged / users);
        keep(cache);
        cache = null;

        heap0 = heap();
        HashMap<String, TreeModel> full = new HashMap<>();
        for (int u = 0; u < users; u++) {
            full.put("user-" + u, ModelFormat.decode(ModelFormat.TREES, stored.get(u % distinct)));
        }
        heap1 = heap();
        System.out.printf("full form: %,d users: heap +%,d bytes = %,d bytes per user%n", users, heap1 - heap0,
                (heap1 - heap0) / users);
        keep(full);
    }

    private static volatile Object sink;

    private static void keep(Object o) {
        sink = o;
        sink = null;
    }

    private static long heap() throws InterruptedException {
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** Resident set size of this process, from /proc (Linux). */
    private static long rss() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        return -1;
    }
}
