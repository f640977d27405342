#!/usr/bin/env bash
# Measures the gateway against a bare reactor-netty baseline in one run, under the same load (wrk, closed loop),
# and p99 at a fixed arrival rate (FixedRateProbe, open loop). Prints medians over ROUNDS and the ratio gateway / baseline.
#
#   load-tests/bench/run-bench.sh            # needs: apt-get install wrk; python3
#
# Environment (defaults): ROUNDS=3 DURATION=10s CONNECTIONS="16 64" THREADS=2 RATE=500 RATE_DURATION=20 (seconds)
#   RENTALS_USERS=1 (spread rentals over user-1..user-N) GATEWAY_HEAP=512m SKIP_BUILD=0
#   GATEWAY_JAVA_OPTS (extra JVM flags) GATEWAY_ENV (extra "K=V ..." for the gateway, e.g. batching settings)
# The gateway runs from gateway/target/gateway.jar with the 'local' profile against deploy/local/services.sh,
# logging its predictions to a database of its own that every run starts empty (lib.sh).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUT="$ROOT/load-tests/target/bench/$(date -u +%Y%m%dT%H%M%SZ)"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-"16 64"}
THREADS=${THREADS:-2}
RATE=${RATE:-500}
RATE_DURATION=${RATE_DURATION:-20}
RENTALS_USERS=${RENTALS_USERS:-1}
GATEWAY_HEAP=${GATEWAY_HEAP:-512m}
BASE_PORT=18090
for tool in wrk python3 curl psql; do
  command -v "$tool" >/dev/null || { say "$tool is missing (apt-get install wrk)"; exit 1; }
done
mkdir -p "$OUT"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

fresh_services
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  say "building (./mvnw -q -DskipTests package -pl load-tests -am)"
  (cd "$ROOT" && ./mvnw -q -B -DskipTests package -pl load-tests -am)
fi
CP="$ROOT/load-tests/target/classpath.txt"  # written by the package phase
[[ -f "$CP" ]] || { say "no $CP: build first (unset SKIP_BUILD)"; exit 1; }

say "starting the baseline on :$BASE_PORT"
java -Xms256m -Xmx256m -cp "$ROOT/load-tests/target/classes:$(cat "$CP")" \
  io.mlgateway.loadtests.baseline.BaselineServer "$BASE_PORT" >"$OUT/baseline.log" 2>&1 &
PIDS+=($!)

say "starting the gateway on :$GW_PORT with -Xms$GATEWAY_HEAP -Xmx$GATEWAY_HEAP ${GATEWAY_JAVA_OPTS:-}"
start_gateway "$OUT/gateway.log" "$GATEWAY_HEAP"
PIDS+=($GW_PID)

# name | path | body | users
ENDPOINTS=("regno|/v1/regno/predict|regno.json|1" "rentals|/v1/rentals/user-1/predict|rentals.json|$RENTALS_USERS")

run_wrk() { # target port endpoint-spec conns duration -> prints "rps p50ms p99ms errors"
  local port=$2 spec=$3 conns=$4 duration=$5 name path body users
  IFS='|' read -r name path body users <<<"$spec"
  BODY_FILE="$BENCH/$body" API_KEY=$API_KEY USERS=$users PATH_PREFIX="${path%/user-1/predict}/user-" \
    wrk -t"$THREADS" -c"$conns" -d"$duration" --latency -s "$BENCH/post.lua" "http://127.0.0.1:$port$path" \
    >"$OUT/wrk-$1-$name-$conns-$RANDOM.txt" 2>&1 || true
  local file; file=$(ls -t "$OUT"/wrk-"$1"-"$name"-"$conns"-*.txt | head -1)
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /Requests\/sec/ { rps = $2 }
    /Non-2xx/ { err += $NF } /Socket errors/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
    END { printf "%s %s %s %d\n", rps, p50, p99, err }' "$file"
}

RESULTS="$OUT/results.tsv"
printf 'round\tendpoint\tconns\ttarget\trps\tp50_ms\tp99_ms\terrors\n' >"$RESULTS"
say "warm-up (JIT) of both servers"
for spec in "${ENDPOINTS[@]}"; do
  run_wrk gateway $GW_PORT "$spec" 64 10s >/dev/null
  run_wrk baseline $BASE_PORT "$spec" 64 5s >/dev/null
done
for round in $(seq 1 "$ROUNDS"); do
  for spec in "${ENDPOINTS[@]}"; do
    name=${spec%%|*}
    for conns in $CONNECTIONS; do
      # Alternate which goes first so drift on the shared machine does not favour one side.
      order="gateway baseline"; (( round % 2 == 0 )) && order="baseline gateway"
      for target in $order; do
        port=$GW_PORT; [[ $target == baseline ]] && port=$BASE_PORT
        read -r rps p50 p99 err < <(run_wrk $target $port "$spec" "$conns" "$DURATION")
        say "round $round $name c=$conns $target: $rps req/s p50 ${p50}ms p99 ${p99}ms errors $err"
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$conns" "$target" "$rps" "$p50" "$p99" "$err" >>"$RESULTS"
      done
    done
  done
done

say "fixed rate: $RATE requests/s for $RATE_DURATION s, open loop (FixedRateProbe)"
RATES="$OUT/rate.tsv"
printf 'endpoint\ttarget\tp50_ms\tp99_ms\tp999_ms\tnon2xx\n' >"$RATES"
for spec in "${ENDPOINTS[@]}"; do
  IFS='|' read -r name path body users <<<"$spec"
  for target in gateway baseline; do
    port=$GW_PORT; [[ $target == baseline ]] && port=$BASE_PORT
    java -Xmx256m -cp "$ROOT/load-tests/target/classes:$(cat "$CP")" io.mlgateway.loadtests.probe.FixedRateProbe \
      "http://127.0.0.1:$port$path" "$BENCH/$body" "$RATE" "$RATE_DURATION" 5 "$API_KEY" \
      >"$OUT/probe-$target-$name.txt" 2>&1 || true
    say "fixed rate $name $target: $(tail -1 "$OUT/probe-$target-$name.txt")"
    awk -v n="$name" -v t="$target" '/^rate/ { for (i = 1; i < NF; i++) v[$i] = $(i + 1) }
      END { printf "%s\t%s\t%s\t%s\t%s\t%s\n", n, t, v["p50"], v["p99"], v["p99.9"], v["non-2xx"] }' \
      "$OUT/probe-$target-$name.txt" >>"$RATES"
  done
done

python3 - "$RESULTS" "$RATES" "$ROUNDS" "$DURATION" "$GATEWAY_HEAP" <<'PY'
import csv, statistics, sys, collections
results, rates, rounds, duration, heap = sys.argv[1:6]
rows = list(csv.DictReader(open(results), delimiter="\t"))
by = collections.defaultdict(list)
for r in rows:
    by[(r["endpoint"], int(r["conns"]), r["target"])].append(r)
med = lambda rs, k: statistics.median(float(r[k] or 0) for r in rs)
print(f"\nMedians of {rounds} rounds of {duration} per cell (wrk closed loop, 2 threads); gateway heap {heap}\n")
print("| endpoint | conns | gateway req/s | baseline req/s | ratio | gateway p50 / p99 ms | baseline p50 / p99 ms | gateway errors |")
print("| --- | --- | --- | --- | --- | --- | --- | --- |")
for (ep, c) in sorted({(k[0], k[1]) for k in by}):
    g, b = by[(ep, c, "gateway")], by[(ep, c, "baseline")]
    gr, br = med(g, "rps"), med(b, "rps")
    errs = sum(int(r["errors"]) for r in g)
    print(f"| {ep} | {c} | {gr:,.0f} | {br:,.0f} | {gr / br:.2f} | {med(g, 'p50_ms'):.2f} / {med(g, 'p99_ms'):.2f} "
          f"| {med(b, 'p50_ms'):.2f} / {med(b, 'p99_ms'):.2f} | {errs} |")
print("\nFixed arrival rate, open loop (latency from each request's due time)\n")
print("| endpoint | target | p50 ms | p99 ms | p99.9 ms | non-2xx |")
print("| --- | --- | --- | --- | --- | --- |")
for r in csv.DictReader(open(rates), delimiter="\t"):
    print(f"| {r['endpoint']} | {r['target']} | {r['p50_ms']} | {r['p99_ms']} | {r['p999_ms']} | {r['non2xx']} |")
PY
say "raw output in $OUT"
