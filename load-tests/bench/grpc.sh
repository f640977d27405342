#!/usr/bin/env bash
# The protocol over gRPC against the same protocol over REST, one gateway, same run: rentals ModelInfer for user-1
# (the base model) at 64 requests in flight.
#
#   REST   wrk, 64 connections, POST /v2/models/rentals/infer, one row (rentals-oip.json); then 64 rows per request
#   gRPC   h2load, 64 streams (CONNS connections x 64/CONNS streams), ModelInfer, one row, fp32_contents
#   gRPC   the same, 64 rows per call in raw_input_contents
#
# Each is warmed for WARM seconds, then measured for DURATION. h2load reads HTTP statuses, not gRPC's (a failed
# call is HTTP 200 with grpc-status in the trailers), so the calls that succeeded are counted by the gateway
# itself: grpc_server_processing_duration_seconds_count{method="ModelInfer",statusCode=...} before and after.
#
#   load-tests/bench/grpc.sh [HEAP]      (DURATION=30 WARM=10 CONNS=4; SKIP_BUILD=1 to reuse the jar)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$ROOT/deploy/apt-install.sh"
HEAP=${1:-768m}
DURATION=${DURATION:-30}
WARM=${WARM:-10}
CONNS=${CONNS:-4}
GW_GRPC=${GW_GRPC:-18001}
OUT="$ROOT/load-tests/target/bench-grpc"
mkdir -p "$OUT"

command -v h2load >/dev/null || apt_install nghttp2-client
command -v wrk >/dev/null || apt_install wrk
/usr/bin/python3 -c 'import grpc_tools.protoc' 2>/dev/null || apt_install python3-grpc-tools
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  say "building the gateway (./mvnw -q -DskipTests package -pl gateway -am)"
  (cd "$ROOT" && ./mvnw -q -B -DskipTests package -pl gateway -am)
fi
/usr/bin/python3 "$BENCH/grpc-bodies.py" "$OUT"

fresh_services
GATEWAY_ENV="GATEWAY_GRPC_PORT=$GW_GRPC" start_gateway "$OUT/gateway.log" "$HEAP"
trap 'kill $GW_PID 2>/dev/null || true' EXIT
say "gateway up (heap $HEAP, gRPC on $GW_GRPC); $WARM s warm-up and $DURATION s measured per row"

calls() {  # status code
  curl -s "http://127.0.0.1:$GW_MGMT/actuator/prometheus" | awk -v code="statusCode=\"$1\"" \
    '/^grpc_server_processing_duration_seconds_count\{/ && /method="ModelInfer"/ && index($0, code) {s += $2}
     END {printf "%d", s}'
}

rest() {  # seconds [body]
  BODY_FILE="${2:-$BENCH/rentals-oip.json}" API_KEY=$API_KEY wrk -t2 -c64 -d"$1"s -s "$BENCH/post.lua" \
    "http://127.0.0.1:$GW_PORT/v2/models/rentals/infer"
}

grpc() {  # body seconds
  h2load -c"$CONNS" -m$((64 / CONNS)) -D "$2" -d "$OUT/$1" \
    -H 'content-type: application/grpc' -H 'te: trailers' -H "x-api-key: $API_KEY" -H 'x-user-id: user-1' \
    "http://127.0.0.1:$GW_GRPC/inference.GRPCInferenceService/ModelInfer"
}

printf '| protocol | request | requests/s (answered OK) | rows/s | mean latency | failed |\n| --- | --- | ---: | ---: | ---: | ---: |\n' \
  >"$OUT/table.md"

rest "$WARM" >/dev/null
rest "$DURATION" >"$OUT/rest.txt"
rps=$(awk '/^Requests\/sec/ {print $2}' "$OUT/rest.txt")
lat=$(awk '/^ +Latency/ {print $2; exit}' "$OUT/rest.txt")
errors=$(awk '/Non-2xx|Socket errors/ {print}' "$OUT/rest.txt" | tr '\n' ' ')
printf '| REST | 1 row, JSON | %.0f | %.0f | %s | %s |\n' "$rps" "$rps" "$lat" "${errors:-0}" >>"$OUT/table.md"

# 64 rows in one JSON request: the REST batch, to tell what bounds many rows per call on either protocol.
/usr/bin/python3 - "$BENCH/rentals-oip.json" "$OUT/rentals-oip-64.json" <<'PY'
import json, sys
request = json.load(open(sys.argv[1]))
tensor = request["inputs"][0]
tensor["data"], tensor["shape"] = tensor["data"] * 64, [64, tensor["shape"][1]]
json.dump(request, open(sys.argv[2], "w"))
PY
rest "$WARM" "$OUT/rentals-oip-64.json" >/dev/null
rest "$DURATION" "$OUT/rentals-oip-64.json" >"$OUT/rest-64.txt"
rps=$(awk '/^Requests\/sec/ {print $2}' "$OUT/rest-64.txt")
lat=$(awk '/^ +Latency/ {print $2; exit}' "$OUT/rest-64.txt")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$OUT/rest-64.txt")
total=$(awk '/requests in/ {print $1}' "$OUT/rest-64.txt")
ok=$(( total - ${non2xx:-0} ))
printf '| REST | 64 rows, JSON | %.0f | %.0f | %s | %s |\n' "$(awk -v ok=$ok -v d=$DURATION 'BEGIN {print ok / d}')" \
  "$(awk -v ok=$ok -v d=$DURATION 'BEGIN {print ok * 64 / d}')" "$lat" "${non2xx:-0} (503)" >>"$OUT/table.md"

for body in infer-1-typed.bin infer-64-raw.bin; do
  rows=1; [[ $body == infer-64-raw.bin ]] && rows=64
  grpc "$body" "$WARM" >/dev/null
  before=$(calls OK); unavailable_before=$(calls UNAVAILABLE)
  grpc "$body" "$DURATION" >"$OUT/grpc-$rows.txt"
  after=$(calls OK); unavailable=$(( $(calls UNAVAILABLE) - unavailable_before ))
  sent=$(awk '/^requests:/ {print $2}' "$OUT/grpc-$rows.txt")
  ok=$((after - before))
  rps=$(awk -v ok="$ok" -v d="$DURATION" 'BEGIN {printf "%.0f", ok / d}')
  lat=$(awk '/^time for request:/ {print $6; exit}' "$OUT/grpc-$rows.txt")
  printf '| gRPC | %s row(s), %s | %s | %.0f | %s | %d (UNAVAILABLE %d) |\n' "$rows" \
    "$([[ $rows == 1 ]] && echo typed || echo raw)" "$rps" "$((ok * rows / DURATION))" "$lat" "$((sent - ok))" \
    "$unavailable" >>"$OUT/table.md"
done
refusals=$(grep -c 'inference log refusing predictions' "$OUT/gateway.log" || true)
say "the inference log refused predictions (full) $refusals times during the run"
cat "$OUT/table.md"
