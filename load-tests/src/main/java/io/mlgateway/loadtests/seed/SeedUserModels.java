package io.mlgateway.loadtests.seed;

import io.mlgateway.shared.modelstore.ModelRecord;
import io.mlgateway.shared.modelstore.ModelRegistry;
import io.mlgateway.shared.modelstore.NewModel;
import io.mlgateway.shared.modelstore.StaleModelException;
import io.mlgateway.shared.storage.Connections;
import io.mlgateway.shared.storage.DatabaseProperties;
import io.mlgateway.shared.training.BikeSharingData;
import io.mlgateway.shared.training.BoosterTrainer;
import io.mlgateway.shared.training.TrainingSet;
import io.mlgateway.shared.trees.ScoringModel;
import io.mlgateway.shared.trees.TreeEnsemble;
import io.mlgateway.shared.trees.TreeModel;
import io.r2dbc.pool.ConnectionPool;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * Registers many users with a model of their own, as the retrainer's residual policy makes them: {@code rounds}
 * trees (depth 6) fitted over the base model's predictions on a window of {@code hours} consecutive hours of 2012
 * starting at a random hour, stored layered on the base. Fitting 10,000 such models takes a quarter of an hour, so
 * {@code distinct} models are fitted and user i gets a stored copy of model i mod distinct: each user still has a
 * version of its own, loaded and held in memory on its own, at the size a real user's model has. The registry must
 * hold the base model already (start the gateway once first).
 *
 * <p>{@code java -cp … io.mlgateway.loadtests.seed.SeedUserModels R2DBC_URL USER PASSWORD COUNT [prefix=user-]
 * [rounds=50] [threads=2] [hours=4000] [distinct=200]}: users {@code prefix1 … prefixCOUNT}; users that already have
 * a model are left alone.
 */
public final class SeedUserModels {

    private SeedUserModels() {
    }

    public static void main(String[] args) {
        String url = args[0];
        int count = Integer.parseInt(args[3]);
        String prefix = args.length > 4 ? args[4] : "user-";
        int rounds = args.length > 5 ? Integer.parseInt(args[5]) : 50;
        int threads = args.length > 6 ? Integer.parseInt(args[6]) : 2;
        int hours = args.length > 7 ? Integer.parseInt(args[7]) : 4000;
        int distinct = args.length > 8 ? Integer.parseInt(args[8]) : 200;
        ConnectionPool pool = Connections.connectionPool(
                new DatabaseProperties(url, args[1], args[2], DatabaseProperties.Pool.defaults()), "seed");
        ModelRegistry registry = new ModelRegistry(DatabaseClient.create(pool),
                TransactionalOperator.create(new R2dbcTransactionManager(pool)));
        Scheduler fitting = Schedulers.newParallel("fit", threads);
        try {
            ModelRecord base = registry.current(ModelRegistry.BASE_USER).blockOptional(Duration.ofSeconds(30))
                    .orElseThrow(() -> new IllegalStateException("no base model: start the gateway once first"));
            ScoringModel baseScoring = base.model().bind(null);
            List<BikeSharingData.Hour> year2012 = BikeSharingData.where(h -> !h.isYear2011());
            java.util.Map<Integer, TreeEnsemble> models = new java.util.concurrent.ConcurrentHashMap<>();
            AtomicInteger stored = new AtomicInteger();
            AtomicInteger existing = new AtomicInteger();
            long ownTrees = 0;
            long started = System.nanoTime();
            List<Integer> sizes = Flux.range(1, count)
                    .flatMap(i -> Mono.fromCallable(() -> models.computeIfAbsent(i % distinct,
                                            k -> own(k, baseScoring, year2012, rounds, hours)))
                            .subscribeOn(fitting)
                            .map(own -> NewModel.of(prefix + i, base.version(), TreeModel.layered(base.version(), own),
                                    base.numTrees(), "{\"seeded\": true}"))
                            .flatMap(model -> registry.store(model, null)
                                    .doOnNext(r -> {
                                        if (stored.incrementAndGet() % 1000 == 0) {
                                            System.out.printf("%d users stored%n", stored.get());
                                        }
                                    })
                                    .map(ModelRecord::ownTrees)
                                    .onErrorResume(StaleModelException.class, e -> {
                                        existing.incrementAndGet();
                                        return Mono.empty();
                                    })), threads * 4)
                    .collectList()
                    .block(Duration.ofHours(1));
            for (int n : sizes) {
                ownTrees += n;
            }
            System.out.printf("seeded %d users (%d already had a model) with %d own trees each on base version %d"
                    + " in %.1f s%n", stored.get(), existing.get(), stored.get() == 0 ? 0 : ownTrees / stored.get(),
                    base.version(), (System.nanoTime() - started) / 1e9);
        } finally {
            fitting.dispose();
            pool.dispose();
        }
    }

    private static TreeEnsemble own(int seed, ScoringModel baseScoring, List<BikeSharingData.Hour> year2012,
            int rounds, int hours) {
        int window = Math.min(hours, year2012.size());
        int from = new Random(seed).nextInt(year2012.size() - window + 1);
        TrainingSet data = TrainingSet.of(year2012.subList(from, from + window));
        return BoosterTrainer.fitOnMargin(data, baseScoring.predictAll(data.features(), data.rows()), rounds);
    }
}
