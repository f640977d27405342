/**
 * The Open Inference Protocol's gRPC half ({@code inference.GRPCInferenceService}, from
 * {@code src/main/proto/grpc_predict_v2.proto}) on its own port: messages in and out of the same
 * {@link io.mlgateway.oip.DataPlane} the REST half calls, errors as gRPC status codes with the REST half's messages.
 */
package io.mlgateway.grpc;
