#!/usr/bin/env python3
"""An outside client of the gateway's gRPC port, as a Python team would write one: stubs generated at run time from
the gateway's own .proto by grpc_tools (Debian's python3-grpc-tools), calls made with grpcio (python3-grpcio), so
nothing of the server's Java toolchain is involved.

    oip_grpc_client.py PROTO HOST:PORT API_KEY < {"user": "...", "rows": [[12 floats], ...]}

Prints one JSON object: each call's answer, or {"code": ..., "details": ...} for a call that failed.
"""
import importlib
import json
import os
import struct
import sys
import tempfile

import grpc
from grpc_tools import protoc


def compiled(proto):
    out = tempfile.mkdtemp(prefix="oip-grpc-")
    include = os.path.dirname(os.path.abspath(proto))
    rc = protoc.main(["protoc", "-I" + include, "--python_out=" + out, "--grpc_python_out=" + out,
                      os.path.abspath(proto)])
    if rc != 0:
        sys.exit("protoc failed on %s (exit %d)" % (proto, rc))
    sys.path.insert(0, out)
    name = os.path.splitext(os.path.basename(proto))[0]
    return importlib.import_module(name + "_pb2"), importlib.import_module(name + "_pb2_grpc")


def failure(error):
    return {"code": error.code().name, "details": error.details()}


def outputs(pb, response):
    """Each output's elements, from its typed contents or from raw_output_contents."""
    decoded = {}
    for i, tensor in enumerate(response.outputs):
        count = 1
        for dimension in tensor.shape:
            count *= dimension
        if response.raw_output_contents:
            raw = response.raw_output_contents[i]
            if tensor.datatype == "FP32":
                decoded[tensor.name] = list(struct.unpack("<%df" % count, raw))
            elif tensor.datatype == "FP64":
                decoded[tensor.name] = list(struct.unpack("<%dd" % count, raw))
            elif tensor.datatype == "BYTES":
                values, at = [], 0
                while at < len(raw):
                    (length,) = struct.unpack_from("<I", raw, at)
                    values.append(raw[at + 4:at + 4 + length].decode("utf-8"))
                    at += 4 + length
                decoded[tensor.name] = values
        else:
            contents = tensor.contents
            if tensor.datatype == "FP32":
                decoded[tensor.name] = list(contents.fp32_contents)
            elif tensor.datatype == "FP64":
                decoded[tensor.name] = list(contents.fp64_contents)
            elif tensor.datatype == "BYTES":
                decoded[tensor.name] = [b.decode("utf-8") for b in contents.bytes_contents]
    return decoded


def main():
    proto, target, key = sys.argv[1:4]
    request = json.load(sys.stdin)
    user, rows = request["user"], request["rows"]
    pb, stubs = compiled(proto)
    results = {}
    with grpc.insecure_channel(target) as channel:
        stub = stubs.GRPCInferenceServiceStub(channel)
        key_only = [("x-api-key", key)]
        results["live"] = stub.ServerLive(pb.ServerLiveRequest(), timeout=10).live
        results["ready"] = stub.ServerReady(pb.ServerReadyRequest(), timeout=10).ready
        server = stub.ServerMetadata(pb.ServerMetadataRequest(), metadata=key_only, timeout=10)
        results["server"] = {"name": server.name, "version": server.version}
        model = stub.ModelMetadata(pb.ModelMetadataRequest(name="rentals"), metadata=key_only, timeout=10)
        results["rentals_inputs"] = [[t.name, t.datatype, list(t.shape)] for t in model.inputs]
        results["rentals_ready"] = stub.ModelReady(pb.ModelReadyRequest(name="rentals"), metadata=key_only,
                                                   timeout=10).ready

        flat = [value for row in rows for value in row]
        shape = [len(rows), len(rows[0])]
        user_parameter = {"user_id": pb.InferParameter(string_param=user)}

        typed = pb.ModelInferRequest(model_name="rentals", id="python-typed", parameters=user_parameter)
        tensor = typed.inputs.add(name="features", datatype="FP32", shape=shape)
        tensor.contents.fp32_contents.extend(flat)
        answer = stub.ModelInfer(typed, metadata=key_only, timeout=30)
        results["typed"] = {"id": answer.id, "model_version": answer.model_version, "outputs": outputs(pb, answer)}

        raw = pb.ModelInferRequest(model_name="rentals", id="python-raw", parameters=user_parameter)
        raw.inputs.add(name="features", datatype="FP32", shape=shape)
        raw.raw_input_contents.append(struct.pack("<%df" % len(flat), *flat))
        answer = stub.ModelInfer(raw, metadata=key_only + [("x-user-id", user)], timeout=30)
        results["raw"] = {"id": answer.id, "model_version": answer.model_version, "outputs": outputs(pb, answer),
                          "raw_outputs": len(answer.raw_output_contents)}

        for name, call in {
            "no_key": lambda: stub.ModelInfer(typed, timeout=10),
            "no_user": lambda: stub.ModelInfer(pb.ModelInferRequest(model_name="rentals", inputs=typed.inputs),
                                               metadata=key_only, timeout=10),
            "no_model": lambda: stub.ModelMetadata(pb.ModelMetadataRequest(name="nope"), metadata=key_only,
                                                   timeout=10),
        }.items():
            try:
                call()
                results[name] = {"code": "OK"}
            except grpc.RpcError as error:
                results[name] = failure(error)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
