#!/usr/bin/env bash
# Memory under sustained load: the gateway with a fixed heap, regno and rentals driven together by wrk for
# DURATION (default 5 min), sampled every INTERVAL. Prints heap live data after GC (jvm_gc_live_data_size),
# heap used, RSS, GC pauses and the bounded queues, so growth (a leak) or a queue filling up shows as a trend.
#
#   load-tests/bench/soak.sh            # env: DURATION=300 INTERVAL=30 CONNS=32 (per endpoint) GATEWAY_HEAP=512m
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
DURATION=${DURATION:-300}; INTERVAL=${INTERVAL:-30}; CONNS=${CONNS:-32}; GATEWAY_HEAP=${GATEWAY_HEAP:-512m}
OUT="$ROOT/load-tests/target/soak/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
fresh_services
start_gateway "$OUT/gateway.log" "$GATEWAY_HEAP" -Xlog:gc:file="$OUT/gc.log"
GW=$GW_PID
PIDS=($GW)
trap 'kill "${PIDS[@]}" 2>/dev/null || true' EXIT
load() { # body path seconds
  BODY_FILE="$BENCH/$1" wrk -t1 -c"$CONNS" -d"$3s" --latency -s "$BENCH/post.lua" "http://127.0.0.1:$GW_PORT$2"
}
load regno.json /v1/regno/predict 10 >/dev/null & WARM=$!
load rentals.json /v1/rentals/user-1/predict 10 >/dev/null; wait $WARM  # warm-up (JIT)
load regno.json /v1/regno/predict "$DURATION" >"$OUT/wrk-regno.txt" & PIDS+=($!)
load rentals.json /v1/rentals/user-1/predict "$DURATION" >"$OUT/wrk-rentals.txt" & PIDS+=($!)
printf '%6s %12s %12s %10s %10s %12s %12s\n' "t(s)" "live(MB)" "heapUsed(MB)" "RSS(MB)" "youngGCs" "logBuffer" "scoringQueue"
for t in $(seq "$INTERVAL" "$INTERVAL" "$DURATION"); do
  sleep "$INTERVAL"
  curl -s "http://127.0.0.1:$GW_MGMT/actuator/prometheus" >"$OUT/metrics.txt"
  rss=$(awk '/VmRSS/ {print $2}' /proc/$GW/status)
  awk -v t="$t" -v rss="$rss" '
    # Label values contain spaces ("G1 Eden Space"): the value is the last field.
    /^jvm_gc_live_data_size_bytes/ { live = $NF }
    /^jvm_memory_used_bytes/ && /area="heap"/ { used += $NF }
    /^jvm_gc_pause_seconds_count/ { gcs += $NF }
    /^gateway_inferencelog_queue_depth/ { buffer = $NF }
    /^gateway_scoring_queue_depth/ { queue = $NF }
    END { printf "%6d %12.1f %12.1f %10.1f %10d %12d %12d\n", t, live / 1048576, used / 1048576, rss / 1024, gcs, buffer, queue }
  ' "$OUT/metrics.txt"
done
wait "${PIDS[1]}" "${PIDS[2]}" || true
for w in regno rentals; do
  printf '%-8s %s  p50 %s  p99 %s  non-2xx %s\n' "$w" "$(awk '/Requests\/sec/ {print $2 " req/s"}' "$OUT/wrk-$w.txt")" \
    "$(awk '/ 50%/ {print $2}' "$OUT/wrk-$w.txt")" "$(awk '/ 99%/ {print $2}' "$OUT/wrk-$w.txt")" \
    "$(awk '/Non-2xx/ {n = $NF} END {print n + 0}' "$OUT/wrk-$w.txt")"
done
echo "heap after each young GC, sampled (from $OUT/gc.log):"
awk '/Pause Young/ { split($0, a, "->"); split(a[2], b, "M"); n++; after[n] = b[1]; t[n] = $1 }
     END { step = int(n / 10) + 1; for (i = 1; i <= n; i += step) printf "  %s %sM\n", t[i], after[i];
           printf "  %s %sM (last of %d young GCs)\n", t[n], after[n], n }' "$OUT/gc.log"
grep -E "Pause Full" "$OUT/gc.log" || echo "no full GC"
