package io.mlgateway.regno;

import io.mlgateway.scoring.ScoringExecutor;
import java.io.IOException;
import java.util.List;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/**
 * Scores recognitions with the regno model on the scoring pool. Feature building is cheap and runs with the
 * native call on the scoring thread, so the event loop only parses and writes JSON.
 */
@Component
public class RegnoScorer implements DisposableBean {

    static final String MODEL = "regno";

    private final RegnoModel model;
    private final ScoringExecutor executor;

    public RegnoScorer(RegnoProperties properties, ScoringExecutor executor) throws IOException {
        this.model = RegnoModel.load(properties.model());
        this.executor = executor;
    }

    public String modelVersion() {
        return model.version();
    }

    public Mono<RegnoPrediction> score(RegnoRequest request) {
        return executor.submit(MODEL, () -> model.predict(List.of(RegnoFeatureRecipe.build(request))).get(0));
    }

    /** One native call for the whole batch. */
    public Mono<List<RegnoPrediction>> scoreAll(List<RegnoRequest> requests) {
        return executor.submit(MODEL, () -> model.predict(requests.stream().map(RegnoFeatureRecipe::build).toList()));
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
