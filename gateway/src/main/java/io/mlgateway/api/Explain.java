package io.mlgateway.api;

import io.mlgateway.errors.ApiException;

/** The v1 query parameter {@code explain}: {@code true} or {@code false}, anything else a 400 naming it. */
final class Explain {

    static final String PARAMETER = "explain";

    private Explain() {
    }

    static boolean requested(ApiRequest request) {
        return request.queryParam(PARAMETER).map(value -> switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw ApiException.invalidField(PARAMETER, "must be true or false");
        }).orElse(false);
    }
}
