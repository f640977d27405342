package io.mlgateway.regno;

import io.mlgateway.scoring.MicroBatcher;
import io.mlgateway.scoring.ScoringExecutor;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Scores recognitions with the regno model on the scoring pool. Single recognitions are micro-batched: concurrent
 * requests share one native call. Feature building runs with the native call on the scoring thread, so the event
 * loop only parses and writes JSON.
 */
@Component
public class RegnoScorer implements DisposableBean {

    static final String MODEL = "regno";

    private final RegnoModel model;
    private final ScoringExecutor executor;
    private final MicroBatcher<RegnoModel, RegnoRequest, RegnoPrediction> batcher;

    public RegnoScorer(RegnoProperties properties, ScoringExecutor executor) throws IOException {
        this.model = RegnoModel.load(properties.model());
        this.executor = executor;
        this.batcher = executor.batcher(MODEL, RegnoScorer::predict);
    }

    private static List<RegnoPrediction> predict(RegnoModel model, List<RegnoRequest> requests) {
        List<RegnoFeatures> features = new ArrayList<>(requests.size());
        for (RegnoRequest request : requests) {
            features.add(RegnoFeatureRecipe.build(request));
        }
        return model.predict(features);
    }

    public String modelVersion() {
        return model.version();
    }

    public List<String> featureNames() {
        return model.featureNames();
    }

    public Mono<RegnoPrediction> score(RegnoRequest request) {
        return batcher.submit(model, request);
    }

    /** One native call for the whole batch. */
    public Mono<List<RegnoPrediction>> scoreAll(List<RegnoRequest> requests) {
        return executor.submit(MODEL, () -> predict(model, requests));
    }

    /**
     * Spring destroys this bean before the executor it depends on, so tasks may still be scoring with the model:
     * drain the pool first (stopping it twice is harmless), then free the native model exactly once.
     */
    @Override
    public void destroy() throws InterruptedException {
        executor.destroy();
        model.close();
    }
}
