/**
 * The Open Inference Protocol (KServe's v2 data plane) as the gateway speaks it: requests and responses as tensors,
 * their validation, and the {@link io.mlgateway.oip.DataPlane} that routes a request to the model it names. Each
 * model's adapter ({@link io.mlgateway.oip.InferenceModel}) lives with its capability and calls the same service as
 * the v1 endpoints, so both protocols share one scoring path, batching, inference log and metrics.
 */
package io.mlgateway.oip;
