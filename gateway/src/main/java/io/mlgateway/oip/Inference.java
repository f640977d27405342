package io.mlgateway.oip;

import java.util.List;
import java.util.Map;

/**
 * What a model answers for one inference request, before the data plane applies the request's output selection
 * and id.
 *
 * @param modelVersion the version that scored the request
 * @param parameters   response parameters, or null
 */
public record Inference(String modelVersion, Map<String, Object> parameters, List<ResponseOutput> outputs) {
}
