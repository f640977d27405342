package io.mlgateway.api;

import io.mlgateway.regno.RegnoRequestParser;
import io.mlgateway.regno.RegnoService;
import org.springframework.stereotype.Component;
import reactor.core.publisher.Mono;

/** The regno endpoints: parse the recognition(s) so every input problem is a 400 naming its field, then score. */
@Component
public class RegnoHandler {

    private final RegnoRequestParser parser;
    private final RegnoService regno;

    public RegnoHandler(RegnoRequestParser parser, RegnoService regno) {
        this.parser = parser;
        this.regno = regno;
    }

    /** The customer's original endpoint; some clients double-encode the body as a JSON string. */
    Mono<RegnoService.LegacyResponse> legacy(ApiRequest request) {
        return request.body().map(parser::parseBody).flatMap(regno::legacy);
    }

    /** {@code ?explain=true} is refused with a 400 saying why: the CatBoost applier cannot explain. */
    Mono<RegnoService.Result> predict(ApiRequest request) {
        if (Explain.requested(request)) {
            return Mono.error(RegnoService.explanationsUnavailable(Explain.PARAMETER));
        }
        return request.body().map(parser::parseBody).flatMap(regno::predict);
    }

    Mono<RegnoService.BatchResponse> predictBatch(ApiRequest request) {
        if (Explain.requested(request)) {
            return Mono.error(RegnoService.explanationsUnavailable(Explain.PARAMETER));
        }
        return request.body().map(body -> parser.parseBatch(body, regno.maxBatchSize())).flatMap(regno::predictBatch);
    }
}
