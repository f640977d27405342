#!/usr/bin/env bash
# Does a setting pay? Runs the gateway once per variant per round (variants alternate, so drift on the shared
# machine favours none), and measures each endpoint with wrk beside the bare baseline in the same round. Prints
# the median ratio gateway / baseline per variant and endpoint.
#
#   load-tests/bench/compare-settings.sh "" "GATEWAY_SCORING_BATCHING_MAX_BATCH_SIZE=1"
#
# Each argument is a variant: environment assignments for the gateway ("" = the defaults); GATEWAY_JAR=path in a
# variant runs that build's jar instead (two builds compared under the same load:
#   compare-settings.sh "GATEWAY_JAR=/tmp/before.jar" ""). Endpoints: regno, rentals
# (one user) and rentals over MANY_USERS users with models of their own, uniformly random.
# Environment (defaults): ROUNDS=3 DURATION=10s CONNS=64 MANY_USERS=10000 WARMUP=20s GATEWAY_HEAP=512m SKIP_BUILD=0
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUT="$ROOT/load-tests/target/bench/compare-$(date -u +%Y%m%dT%H%M%SZ)"
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
MANY_USERS=${MANY_USERS:-10000}
GATEWAY_HEAP=${GATEWAY_HEAP:-512m}
BASE_PORT=18090
[[ $# -ge 1 ]] || { say "usage: $0 VARIANT [VARIANT...]  (a variant: \"K=V K=V\", \"\" for the defaults)"; exit 1; }
mkdir -p "$OUT"

BASELINE_PID=
cleanup() { kill "${GW_PID:-}" "$BASELINE_PID" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

fresh_services
build_once
# java itself in the background (not the load_tests_java function, whose subshell's pid the cleanup would kill
# while the server lived on).
java -Xms256m -Xmx256m -cp "$ROOT/load-tests/target/classes:$(cat "$ROOT/load-tests/target/classpath.txt")" \
  io.mlgateway.loadtests.baseline.BaselineServer "$BASE_PORT" >"$OUT/baseline.log" 2>&1 &
BASELINE_PID=$!
start_gateway "$OUT/seeding-gateway.log" "$GATEWAY_HEAP"   # migrates and stores the base model
seed_users "$MANY_USERS" u- >"$OUT/seed.txt"
kill "$GW_PID"; wait "$GW_PID" 2>/dev/null || true

ENDPOINTS=("regno|/v1/regno/predict|regno.json|1" "rentals|/v1/rentals/user-1/predict|rentals.json|1"
  "rentals-$MANY_USERS-users|/v1/rentals/u-{user}/predict|rentals.json|$MANY_USERS")
run_wrk() { # port spec duration -> "rps p99ms"
  local name path body users
  IFS='|' read -r name path body users <<<"$2"
  BODY_FILE="$BENCH/$body" API_KEY=$API_KEY USERS=$users PATH_TEMPLATE="$path" \
    wrk -t2 -c"$CONNS" -d"$3" --latency -s "$BENCH/post.lua" "http://127.0.0.1:$1${path/\{user\}/1}" \
    >"$OUT/wrk.txt" 2>&1 || true
  read -r rps _ p99 _ < <(wrk_summary "$OUT/wrk.txt")
  echo "$rps $p99"
}

RESULTS="$OUT/results.tsv"
printf 'round\tvariant\tendpoint\tgateway_rps\tbaseline_rps\tgateway_p99_ms\n' >"$RESULTS"
for round in $(seq 1 "$ROUNDS"); do
  for variant in "$@"; do
    jar= settings=
    for kv in $variant; do
      if [[ $kv == GATEWAY_JAR=* ]]; then jar=${kv#GATEWAY_JAR=}; else settings+="$kv "; fi
    done
    GATEWAY_JAR=$jar GATEWAY_ENV="$settings" start_gateway "$OUT/gateway.log" "$GATEWAY_HEAP"
    for spec in "${ENDPOINTS[@]}"; do
      run_wrk "$GW_PORT" "$spec" "${WARMUP:-20s}" >/dev/null
    done
    for spec in "${ENDPOINTS[@]}"; do
      read -r g p99 < <(run_wrk "$GW_PORT" "$spec" "$DURATION")
      read -r b _ < <(run_wrk "$BASE_PORT" "$spec" "$DURATION")
      say "round $round [${variant:-defaults}] ${spec%%|*}: gateway $g req/s (p99 $p99 ms), baseline $b req/s"
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "${variant:-defaults}" "${spec%%|*}" "$g" "$b" "$p99" >>"$RESULTS"
    done
    kill "$GW_PID"; wait "$GW_PID" 2>/dev/null || true
  done
done

python3 - "$RESULTS" "$ROUNDS" "$DURATION" "$CONNS" <<'PY'
import csv, collections, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
by = collections.defaultdict(list)
for r in rows:
    by[(r["variant"], r["endpoint"])].append(r)
print(f"\nMedians of {sys.argv[2]} rounds of {sys.argv[3]} at {sys.argv[4]} connections\n")
print("| variant | endpoint | gateway req/s | ratio to baseline | gateway p99 ms |")
print("| --- | --- | --- | --- | --- |")
for (variant, endpoint), rs in by.items():
    ratio = statistics.median(float(r["gateway_rps"]) / float(r["baseline_rps"]) for r in rs)
    print(f"| {variant} | {endpoint} | {statistics.median(float(r['gateway_rps']) for r in rs):,.0f} | {ratio:.2f} | "
          f"{statistics.median(float(r['gateway_p99_ms']) for r in rs):.2f} |")
PY
say "raw output in $OUT"
