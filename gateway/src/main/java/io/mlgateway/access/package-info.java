/**
 * Who may call the API: the configured keys (stored as SHA-256 hashes, never in plain text), their roles (client
 * or model operations), their request-rate limits, and the rotation of key files without a restart. Knows nothing
 * of HTTP: the API layer asks {@link io.mlgateway.access.ApiKeys#admit} and answers what it says.
 */
package io.mlgateway.access;
