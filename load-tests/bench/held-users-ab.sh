#!/usr/bin/env bash
# Does holding many users' models slow what does not use them? Regno beside the baseline, on a gateway holding
# USERS users with policy-sized models (seeded as lib.sh seeds them, each loaded before the rounds), then on a gateway
# holding none, ROUNDS rounds of 10 s each, gateway and baseline alternating. Prints each round's ratio.
#
#   load-tests/bench/held-users-ab.sh            # env: USERS=10000 ROUNDS=4 GATEWAY_HEAP=768m SKIP_BUILD=0
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
USERS=${USERS:-10000}
ROUNDS=${ROUNDS:-4}
GATEWAY_HEAP=${GATEWAY_HEAP:-768m}
BASE_PORT=18090
OUT="$ROOT/load-tests/target/bench/held-users-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
BPID=
cleanup() { kill "${GW_PID:-}" "$BPID" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

fresh_services
build_once
load_tests_java -Xms256m -Xmx256m io.mlgateway.loadtests.baseline.BaselineServer "$BASE_PORT" >"$OUT/baseline.log" 2>&1 &
BPID=$!
rps() { # port body users path-template url-path
  BODY_FILE="$BENCH/$2" API_KEY=$API_KEY USERS=$3 PATH_TEMPLATE="$4" wrk -t2 -c64 -d10s --latency -s "$BENCH/post.lua" \
    "http://127.0.0.1:$1$5" 2>&1 | awk '/Requests\/sec/ { print $2 }'
}
held() { curl -s "http://127.0.0.1:$GW_MGMT/actuator/prometheus" | awk '/^gateway_modelstore_cache_entries/ { print int($2) }'; }
rounds() {
  for _ in 1 2 3; do rps "$GW_PORT" regno.json 1 "" /v1/regno/predict >/dev/null; done   # JIT: 30 s, both gateways alike
  rps "$BASE_PORT" regno.json 1 "" /v1/regno/predict >/dev/null
  for r in $(seq 1 "$ROUNDS"); do
    g=$(rps "$GW_PORT" regno.json 1 "" /v1/regno/predict); b=$(rps "$BASE_PORT" regno.json 1 "" /v1/regno/predict)
    printf '%s, round %d: gateway %.0f req/s, baseline %.0f, ratio %.2f\n' "$1" "$r" "$g" "$b" "$(echo "$g / $b" | bc -l)"
  done
}

start_gateway "$OUT/gateway-held.log" "$GATEWAY_HEAP"
seed_users "$USERS" u- >"$OUT/seed.txt" 2>&1
for _ in $(seq 1 30); do
  (( $(held) >= USERS )) && break
  rps "$GW_PORT" rentals.json "$USERS" "/v1/rentals/u-{user}/predict" /v1/rentals/u-1/predict >/dev/null
done
say "users held: $(held)"
rounds "$USERS users held"
kill "$GW_PID"; wait "$GW_PID" 2>/dev/null || true
redis-cli -p "${LOCAL_REDIS_PORT:-6379}" FLUSHDB >/dev/null   # no recent users to warm
GATEWAY_ENV="GATEWAY_MODEL_CACHE_WARM_UP_USERS=0" start_gateway "$OUT/gateway-none.log" "$GATEWAY_HEAP"
say "users held: $(held)"
rounds "no user held"
