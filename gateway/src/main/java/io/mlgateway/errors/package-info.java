/**
 * The failures a request can end in, as the capability services raise them: {@link io.mlgateway.errors.ApiException}
 * (the client's input; status, message and field go to the client),
 * {@link io.mlgateway.errors.UnavailableException} (503 with Retry-After) and
 * {@link io.mlgateway.errors.RateLimitedException} (429 with Retry-After). Any package may throw them; the API layer
 * alone turns them into the error envelope.
 */
package io.mlgateway.errors;
