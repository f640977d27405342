package io.mlgateway.errors;

import org.springframework.http.HttpStatus;

/** A client-facing failure: its status, message and field go to the client verbatim, so never put internals in them. */
public class ApiException extends RuntimeException {

    private final HttpStatus status;
    private final String field;

    public ApiException(HttpStatus status, String message, String field) {
        super(message, null, false, false);
        this.status = status;
        this.field = field;
    }

    public static ApiException invalidField(String field, String problem) {
        return new ApiException(HttpStatus.BAD_REQUEST, "field '" + field + "' " + problem, field);
    }

    public static ApiException badRequest(String message) {
        return new ApiException(HttpStatus.BAD_REQUEST, message, null);
    }

    public HttpStatus status() {
        return status;
    }

    public String field() {
        return field;
    }

    /** The same failure with its field nested under a parent, e.g. {@code instances[3].direction}. */
    public ApiException under(String parent) {
        if (field == null) {
            return new ApiException(status, parent + ": " + getMessage(), parent);
        }
        String nested = parent + "." + field;
        return new ApiException(status, getMessage().replace("'" + field + "'", "'" + nested + "'"), nested);
    }
}
