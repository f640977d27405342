#!/usr/bin/env python3
"""Writes gRPC request bodies for h2load: ModelInfer messages for the rentals model (user-1, the features of
rentals-oip.json), each in gRPC's length-prefixed frame (a 0 byte: not compressed, 4-byte big-endian length, the
message). Stubs are compiled from the gateway's .proto with Debian's grpc_tools, as the build's outside client is.

    grpc-bodies.py OUT_DIR    -> OUT_DIR/infer-1-typed.bin (one row, fp32_contents),
                                 OUT_DIR/infer-64-raw.bin (64 rows, raw_input_contents)
"""
import importlib
import os
import struct
import sys
import tempfile

from grpc_tools import protoc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTO = os.path.join(ROOT, "gateway", "src", "main", "proto", "grpc_predict_v2.proto")
ROW = [3, 1, 7, 17, 0, 3, 1, 1, 0.72, 0.6667, 0.48, 0.2239]


def main():
    out = sys.argv[1]
    gen = tempfile.mkdtemp(prefix="grpc-bodies-")
    if protoc.main(["protoc", "-I" + os.path.dirname(PROTO), "--python_out=" + gen, PROTO]) != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, gen)
    pb = importlib.import_module("grpc_predict_v2_pb2")

    def request(rows, raw):
        message = pb.ModelInferRequest(model_name="rentals",
                                       parameters={"user_id": pb.InferParameter(string_param="user-1")})
        tensor = message.inputs.add(name="features", datatype="FP32", shape=[rows, len(ROW)])
        flat = ROW * rows
        if raw:
            message.raw_input_contents.append(struct.pack("<%df" % len(flat), *flat))
        else:
            tensor.contents.fp32_contents.extend(flat)
        body = message.SerializeToString()
        return b"\x00" + struct.pack(">I", len(body)) + body

    for name, rows, raw in (("infer-1-typed.bin", 1, False), ("infer-64-raw.bin", 64, True)):
        with open(os.path.join(out, name), "wb") as f:
            f.write(request(rows, raw))


if __name__ == "__main__":
    main()
