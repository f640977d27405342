#!/usr/bin/env bash
# Heap bytes allocated per request, per endpoint: the gateway's jvm_gc_memory_allocated_bytes_total before and
# after a wrk run at saturation, divided by the requests wrk completed (the JVM's own background allocation is
# included, which only makes the figure pessimistic).
#   load-tests/bench/alloc-per-request.sh      # env: DURATION=15s CONNS=64
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DURATION=${DURATION:-15s}; CONNS=${CONNS:-64}
fresh_services
start_gateway /dev/null 512m
trap 'kill $GW_PID 2>/dev/null || true' EXIT
allocated() { curl -s "http://127.0.0.1:$GW_MGMT/actuator/prometheus" | awk '/^jvm_gc_memory_allocated_bytes_total/ {printf "%.0f", $2}'; }
for spec in "/v1/regno/predict regno.json" "/v1/rentals/user-1/predict rentals.json"; do
  read -r path body <<<"$spec"
  BODY_FILE="$BENCH/$body" wrk -t2 -c"$CONNS" -d10s -s "$BENCH/post.lua" "http://127.0.0.1:$GW_PORT$path" >/dev/null
  before=$(allocated)
  requests=$(BODY_FILE="$BENCH/$body" wrk -t2 -c"$CONNS" -d"$DURATION" -s "$BENCH/post.lua" \
    "http://127.0.0.1:$GW_PORT$path" | awk '/requests in/ {print $1}')
  after=$(allocated)
  awk -v p="$path" -v b="$before" -v a="$after" -v n="$requests" \
    'BEGIN { printf "%-28s %9d requests  %6.1f KB allocated per request\n", p, n, (a - b) / n / 1024 }'
done
