#!/usr/bin/env bash
# Measures the gateway against a bare reactor-netty baseline in one run, under the same load (wrk, closed loop),
# and p99 at a fixed arrival rate (FixedRateProbe, open loop). Prints medians over ROUNDS and the ratio gateway /
# baseline, for the workload users have:
#   regno                    /v1/regno/predict
#   rentals                  one user (user-1, served the shared base model)
#   rentals-<N>-users        MANY_USERS users u-1..u-N, each with a model of its own (the base plus SEED_TREES=50
#                            trees fitted on a window of SEED_HOURS=4000 hours, as the residual policy makes them;
#                            SeedUserModels, lib.sh), uniformly random
#   *-oip                    the same three on the Open Inference Protocol (/v2/models/{regno,rentals}/infer, one row
#                            per request, the user in parameters.user_id); OIP=0 leaves them out
# Before anything else touches them, the N users are swept once by wrk against the just-started gateway (cold: no
# model in memory or Redis); that run is reported on its own. After the rounds, the gateway's model-store metrics
# (memory held, loads and their latency) are printed.
#
#   load-tests/bench/run-bench.sh            # needs: apt-get install wrk; python3
#
# Environment (defaults): ROUNDS=3 DURATION=10s CONNECTIONS="16 64" THREADS=2 RATE=500 RATE_DURATION=20 (seconds)
#   MANY_USERS=10000 (0: skip the many-user workload) OIP=1 (0: skip the v2 endpoints) RATE_USERS=1000 (users of the open-loop many-user probe)
#   ONLY (a regular expression: only the endpoints whose name matches, e.g. ONLY='^regno' for regno on v1 and v2)
#   WARMUP=20s (JIT warm-up of the gateway per endpoint, before the rounds)
#   GATEWAY_HEAP=768m (deploy/local/run.sh's) SKIP_BUILD=0 GATEWAY_JAVA_OPTS (extra JVM flags) GATEWAY_ENV (extra "K=V ..." for the gateway)
#   GATEWAY_JAR (default gateway/target/gateway.jar: run twice with two builds' jars to compare them)
# The gateway runs from gateway/target/gateway.jar with the 'local' profile against deploy/local/services.sh,
# logging its predictions to a database of its own that every run starts empty (lib.sh).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUT="$ROOT/load-tests/target/bench/$(date -u +%Y%m%dT%H%M%SZ)"
ROUNDS=${ROUNDS:-3}
OIP=${OIP:-1}
DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-"16 64"}
THREADS=${THREADS:-2}
RATE=${RATE:-500}
RATE_DURATION=${RATE_DURATION:-20}
MANY_USERS=${MANY_USERS:-10000}
RATE_USERS=${RATE_USERS:-1000}
GATEWAY_HEAP=${GATEWAY_HEAP:-768m}
BASE_PORT=18090
for tool in wrk python3 curl psql; do
  command -v "$tool" >/dev/null || { say "$tool is missing (apt-get install wrk)"; exit 1; }
done
mkdir -p "$OUT"

PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

fresh_services
build_once
CP="$ROOT/load-tests/target/classpath.txt"

say "starting the baseline on :$BASE_PORT"
java -Xms256m -Xmx256m -cp "$ROOT/load-tests/target/classes:$(cat "$CP")" \
  io.mlgateway.loadtests.baseline.BaselineServer "$BASE_PORT" >"$OUT/baseline.log" 2>&1 &
PIDS+=($!)

say "starting the gateway on :$GW_PORT with -Xms$GATEWAY_HEAP -Xmx$GATEWAY_HEAP ${GATEWAY_JAVA_OPTS:-}"
start_gateway "$OUT/gateway.log" "$GATEWAY_HEAP"
PIDS+=($GW_PID)

# name | path ({user}: a random one of users) | body | users
ENDPOINTS=("regno|/v1/regno/predict|regno.json|1" "rentals|/v1/rentals/user-1/predict|rentals.json|1")
if (( MANY_USERS > 0 )); then
  seed_users "$MANY_USERS" u- | tee "$OUT/seed.txt" >&2
  COLD_SPEC="rentals-$MANY_USERS-users|/v1/rentals/u-{user}/predict|rentals.json|$MANY_USERS"
  ENDPOINTS+=("$COLD_SPEC")
fi
if [[ ${OIP:-1} == 1 ]]; then
  ENDPOINTS+=("regno-oip|/v2/models/regno/infer|regno-oip.json|1"
    "rentals-oip|/v2/models/rentals/infer|rentals-oip.json|1")
  (( MANY_USERS > 0 )) && ENDPOINTS+=("rentals-oip-$MANY_USERS-users|/v2/models/rentals/infer|rentals-oip-users.json|$MANY_USERS")
fi

if [[ -n ${ONLY:-} ]]; then
  KEPT=()
  for spec in "${ENDPOINTS[@]}"; do [[ ${spec%%|*} =~ $ONLY ]] && KEPT+=("$spec"); done
  (( ${#KEPT[@]} > 0 )) || { say "ONLY='$ONLY' matches no endpoint"; exit 1; }
  ENDPOINTS=("${KEPT[@]}")
fi

run_wrk() { # target port endpoint-spec conns duration -> prints "rps p50ms p99ms errors"
  local port=$2 spec=$3 conns=$4 duration=$5 name path body users file
  IFS='|' read -r name path body users <<<"$spec"
  file="$OUT/wrk-$1-$name-$conns-$RANDOM.txt"
  BODY_FILE="$BENCH/$body" API_KEY=$API_KEY USERS=$users PATH_TEMPLATE="$path" \
    wrk -t"$THREADS" -c"$conns" -d"$duration" --latency -s "$BENCH/post.lua" "http://127.0.0.1:$port${path/\{user\}/1}" \
    >"$file" 2>&1 || true
  wrk_summary "$file"
}

metrics() { curl -fsS "http://127.0.0.1:$GW_MGMT/actuator/prometheus"; }

RESULTS="$OUT/results.tsv"
printf 'round\tendpoint\tconns\ttarget\trps\tp50_ms\tp99_ms\terrors\n' >"$RESULTS"
if (( MANY_USERS > 0 )); then
  spec=$COLD_SPEC
  metrics >"$OUT/metrics-before-sweep.txt"
  say "cold sweep: $MANY_USERS users, none in memory or Redis, 64 connections for $DURATION"
  read -r rps p50 p99 err < <(run_wrk gateway $GW_PORT "$spec" 64 "$DURATION")
  say "cold sweep: $rps req/s p50 ${p50}ms p99 ${p99}ms errors $err"
  printf 'cold\t%s\t64\tgateway\t%s\t%s\t%s\t%s\n' "${spec%%|*}" "$rps" "$p50" "$p99" "$err" >>"$RESULTS"
  metrics >"$OUT/metrics-after-sweep.txt"
fi
say "warm-up (JIT) of both servers: ${WARMUP:-20s} per endpoint"
for spec in "${ENDPOINTS[@]}"; do
  run_wrk gateway $GW_PORT "$spec" 64 "${WARMUP:-20s}" >/dev/null
  run_wrk baseline $BASE_PORT "$spec" 64 10s >/dev/null
done
if (( MANY_USERS > 0 )); then
  # The many-user rows measure users held in memory (the cold sweep above measures loading them): go on until the
  # gateway holds every one of them, or its tier is full.
  held() { metrics | awk '/^gateway_modelstore_cache_entries/ { print int($2) }'; }
  for _ in $(seq 1 30); do
    (( $(held) >= MANY_USERS )) && break
    run_wrk gateway $GW_PORT "$COLD_SPEC" 64 10s >/dev/null
  done
  say "users held before the rounds: $(held) of $MANY_USERS"
fi
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
metrics >"$OUT/metrics-after-rounds.txt"

say "fixed rate: $RATE requests/s for $RATE_DURATION s, open loop (FixedRateProbe)"
RATES="$OUT/rate.tsv"
printf 'endpoint\ttarget\tp50_ms\tp99_ms\tp999_ms\tnon2xx\n' >"$RATES"
PROBES=("regno|/v1/regno/predict|regno.json|1" "rentals|/v1/rentals/user-1/predict|rentals.json|1")
if (( MANY_USERS > 0 )); then
  PROBES+=("rentals-$RATE_USERS-users|/v1/rentals/u-{user}/predict|rentals.json|$(( RATE_USERS < MANY_USERS ? RATE_USERS : MANY_USERS ))")
fi
for spec in "${PROBES[@]}"; do
  [[ -n ${ONLY:-} && ! ${spec%%|*} =~ $ONLY ]] && continue
  IFS='|' read -r name path body users <<<"$spec"
  for target in gateway baseline; do
    port=$GW_PORT; [[ $target == baseline ]] && port=$BASE_PORT
    probe "http://127.0.0.1:$port$path" "$BENCH/$body" "$RATE" "$RATE_DURATION" "$users" >"$OUT/probe-$target-$name.txt" 2>&1 || true
    say "fixed rate $name $target: $(tail -1 "$OUT/probe-$target-$name.txt")"
    awk -v n="$name" -v t="$target" '/^rate/ { for (i = 1; i < NF; i++) v[$i] = $(i + 1) }
      END { printf "%s\t%s\t%s\t%s\t%s\t%s\n", n, t, v["p50"], v["p99"], v["p99.9"], v["non-2xx"] }' \
      "$OUT/probe-$target-$name.txt" >>"$RATES"
  done
done

python3 - "$RESULTS" "$RATES" "$ROUNDS" "$DURATION" "$GATEWAY_HEAP" "$OUT" <<'PY'
import csv, statistics, sys, collections, re, os
results, rates, rounds, duration, heap, out = sys.argv[1:7]
rows = list(csv.DictReader(open(results), delimiter="\t"))
by = collections.defaultdict(list)
for r in rows:
    if r["round"] != "cold":
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
pairs = [(ep, ep.replace("-oip", "", 1)) for ep in sorted({k[0] for k in by}) if "-oip" in ep]
if pairs:
    print("\nOpen Inference Protocol against v1, gateway req/s per round (same run, same connections)\n")
    print("| v2 endpoint | conns | v2 / v1 per round | median |")
    print("| --- | --- | --- | --- |")
    for v2, v1 in pairs:
        for c in sorted({k[1] for k in by if k[0] == v2}):
            a = {r["round"]: float(r["rps"] or 0) for r in by[(v2, c, "gateway")]}
            b = {r["round"]: float(r["rps"] or 0) for r in by.get((v1, c, "gateway"), [])}
            ratios = [a[k] / b[k] for k in sorted(a) if b.get(k)]
            if ratios:
                print(f"| {v2} | {c} | {' / '.join(f'{x:.2f}' for x in ratios)} | {statistics.median(ratios):.2f} |")
for r in rows:
    if r["round"] == "cold":
        print(f"\nCold sweep ({r['endpoint']}, 64 connections, {duration}, the gateway's first requests for these users):"
              f" {float(r['rps']):,.0f} req/s, p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, errors {r['errors']}")
print("\nFixed arrival rate, open loop (latency from each request's due time)\n")
print("| endpoint | target | p50 ms | p99 ms | p99.9 ms | non-2xx |")
print("| --- | --- | --- | --- | --- | --- |")
for r in csv.DictReader(open(rates), delimiter="\t"):
    print(f"| {r['endpoint']} | {r['target']} | {r['p50_ms']} | {r['p99_ms']} | {r['p999_ms']} | {r['non2xx']} |")

def series(path):
    values = {}
    if not os.path.exists(path):
        return values
    for line in open(path):
        if line.startswith("#"):
            continue
        m = re.match(r'(\w+)(\{[^}]*\})? ([0-9.eE+-]+)', line)
        if m:
            values[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return values
def pick(values, name, **labels):
    total = 0.0
    for key, v in values.items():
        if key.split("{")[0] == name and all(f'{k}="{w}"' in key for k, w in labels.items()):
            total += v
    return total
after = series(os.path.join(out, "metrics-after-rounds.txt"))
if after:
    users = pick(after, "gateway_modelstore_memory_bytes", part="users")
    bases = pick(after, "gateway_modelstore_memory_bytes", part="bases")
    entries = pick(after, "gateway_modelstore_cache_entries")
    print(f"\nModel store after the rounds: {entries:,.0f} users in memory holding {users / 2**20:,.1f} MiB"
          f" (own trees and entries) + {bases / 2**20:,.1f} MiB of shared base models"
          f" = {(users + bases) / 2**20:,.1f} MiB; evictions (size) "
          f"{pick(after, 'gateway_modelstore_evictions_total', cause='size'):,.0f}")
    for source in ("redis", "postgres"):
        n = pick(after, "gateway_modelstore_load_latency_seconds_count", source=source)
        s = pick(after, "gateway_modelstore_load_latency_seconds_sum", source=source)
        if n:
            print(f"  loads from {source}: {n:,.0f}, mean {1000 * s / n:.3f} ms from asking to ready to score")
PY
say "raw output in $OUT"
