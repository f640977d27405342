package io.mlgateway.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The error envelope every API endpoint answers with. It keeps the customer's legacy shape
 * ({@code {"status":"fail","message":…}}) and adds the offending field when there is one, so a client can
 * tell which input to fix without parsing the message.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ApiError(String status, String message, String field) {

    public static ApiError of(String message, String field) {
        return new ApiError("fail", message, field);
    }
}
