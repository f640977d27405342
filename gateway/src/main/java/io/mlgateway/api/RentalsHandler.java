package io.mlgateway.api;

import io.mlgateway.rentals.RentalsRequestParser;
import io.mlgateway.rentals.RentalsService;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The rentals endpoints: validate the user id and the body into model-ready values, then ask the service. */
@Component
public class RentalsHandler {

    static final String USER = "userId";

    private final RentalsService rentals;
    private final JsonMapper json;

    public RentalsHandler(RentalsService rentals, JsonMapper json) {
        this.rentals = rentals;
        this.json = json;
    }

    /** With {@code ?explain=true}, the prediction comes with each feature's contribution (TreeSHAP). */
    Mono<RentalsService.Prediction> predict(ApiRequest request) {
        String user = RentalsRequestParser.userId(request.pathVariable(USER));
        boolean explain = Explain.requested(request);
        return request.body()
                .map(body -> RentalsRequestParser.features(object(body), ""))
                .flatMap(row -> rentals.predict(user, row, explain));
    }

    Mono<RentalsService.Predictions> predictBatch(ApiRequest request) {
        String user = RentalsRequestParser.userId(request.pathVariable(USER));
        return request.body()
                .map(body -> RentalsRequestParser.instances(object(body), rentals.maxBatchSize()))
                .flatMap(rows -> rentals.predictBatch(user, rows));
    }

    Mono<RentalsService.ModelInfo> model(ApiRequest request) {
        return rentals.model(RentalsRequestParser.userId(request.pathVariable(USER)));
    }

    Mono<RentalsService.ActualsResult> storeActuals(ApiRequest request) {
        return rentals.ready()
                .then(request.body())
                .map(body -> RentalsRequestParser.actuals(object(body), rentals.maxActuals(),
                        OffsetDateTime.now(ZoneOffset.UTC)))
                .flatMap(rentals::storeActuals);
    }

    private JsonNode object(byte[] body) {
        return RequestBodies.jsonObject(json, body);
    }
}
