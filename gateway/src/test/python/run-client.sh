#!/usr/bin/env bash
# Runs oip_grpc_client.py with Debian's Python and its gRPC packages (python3-grpcio, python3-grpc-tools), installing
# them when missing: the build's outside client of the gRPC port. Arguments and stdin: see oip_grpc_client.py.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON=/usr/bin/python3
if ! "$PYTHON" -c 'import grpc, grpc_tools.protoc' >/dev/null 2>&1; then
  # as_root, apt_install
  source "$HERE/../../../../deploy/apt-install.sh"
  apt_install python3-grpcio python3-grpc-tools >&2 || { echo "could not install python3-grpcio python3-grpc-tools" >&2; exit 1; }
fi
exec "$PYTHON" "$HERE/oip_grpc_client.py" "$@"
