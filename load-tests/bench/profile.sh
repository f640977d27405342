#!/usr/bin/env bash
# Where does the gateway's time go? Starts gateway/target/gateway.jar with Java Flight Recorder, drives one
# endpoint with wrk at saturation, and prints the hottest methods (top frames and, with the JDK 25 'jfr' tool
# when present, by package), the scoring batch sizes and the allocation rate.
#
#   load-tests/bench/profile.sh [regno|rentals|rentals-users] [seconds=20] [connections=64]
# rentals-users: USERS (10000) users with policy-sized models (lib.sh seed_users), every one loaded before the
# recording (a sweep of wrk over them until the tier holds them all); the gateway heap is GATEWAY_HEAP (768m).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WHAT=${1:-regno}; SECONDS_=${2:-20}; CONNS=${3:-64}
OUT="$ROOT/load-tests/target/profile/$WHAT-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
JFR_TOOL=$(ls -d /usr/lib/jvm/temurin-2*/bin/jfr 2>/dev/null | tail -1 || true)
JFR_TOOL=${JFR_TOOL:-jfr}
case $WHAT in
  regno) PATH_=/v1/regno/predict; BODY=regno.json ;;
  rentals) PATH_=/v1/rentals/user-1/predict; BODY=rentals.json ;;
  rentals-users) PATH_=/v1/rentals/u-{user}/predict; BODY=rentals.json ;;
  *) echo "regno, rentals or rentals-users"; exit 1 ;;
esac
USERS_=1
fresh_services
start_gateway "$OUT/gateway.log" "${GATEWAY_HEAP:-768m}"
GW=$GW_PID
trap 'kill $GW 2>/dev/null || true' EXIT
if [[ $WHAT == rentals-users ]]; then
  USERS_=${USERS:-10000}
  build_once
  seed_users "$USERS_" u- >&2
fi
run() { BODY_FILE="$BENCH/$BODY" USERS=$USERS_ PATH_TEMPLATE="$PATH_" wrk -t2 -c"$CONNS" -d"$1" --latency \
  -s "$BENCH/post.lua" "http://127.0.0.1:$GW_PORT${PATH_/\{user\}/1}"; }
held() { curl -s "http://127.0.0.1:$GW_MGMT/actuator/prometheus" | awk '/^gateway_modelstore_cache_entries/ { print int($2) }'; }
run 15s >/dev/null  # warm-up
while (( $(held) < USERS_ )); do run 10s >/dev/null; done   # every user loaded
jcmd $GW JFR.start name=p settings=profile filename="$OUT/gateway.jfr" >/dev/null
run "${SECONDS_}s" | tee "$OUT/wrk.txt" | grep -E "Requests/sec|99%|50%"
jcmd $GW JFR.stop name=p >/dev/null
curl -s "http://127.0.0.1:$GW_MGMT/actuator/prometheus" >"$OUT/metrics.txt"
echo "--- batch sizes (count, sum) and buckets"
grep -E '^gateway_scoring_batch_size_(count|sum|bucket)' "$OUT/metrics.txt" | grep -v 'le="+Inf"' || true
echo "--- inclusive CPU share by component"
python3 "$BENCH/jfr-inclusive.py" "$OUT/gateway.jfr" "$JFR_TOOL"
echo "--- top frames (execution samples)"
"$JFR_TOOL" print --events jdk.ExecutionSample "$OUT/gateway.jfr" \
  | awk '/stackTrace = \[/ { getline; sub(/^[ \t]+/, ""); sub(/line:.*/, ""); top[$0]++; n++ }
         END { for (f in top) printf "%6.2f%%  %s\n", 100 * top[f] / n, f }' | sort -rn | head -25
if "$JFR_TOOL" view --help >/dev/null 2>&1; then
  "$JFR_TOOL" view --width 160 hot-methods "$OUT/gateway.jfr" | head -40
  "$JFR_TOOL" view --width 160 allocation-by-class "$OUT/gateway.jfr" | head -25
  "$JFR_TOOL" view --width 160 gc "$OUT/gateway.jfr" | tail -5
fi
echo "recording: $OUT/gateway.jfr"
