#!/usr/bin/env bash
# A gateway restarted while active users keep sending predictions: USERS users with models of their own (seeded as
# retrains make them) at RATE requests/s, open loop (FixedRateProbe, every request logged), for DURATION seconds;
# after RESTART_AT seconds the gateway gets SIGTERM and a new one starts on the same port. No load balancer: while
# no instance listens, requests fail to connect. Reported: requests due before the stop, between the stop and the
# moment the new instance reports ready (/actuator/health/readiness), and after it; non-2xx and latency of each
# phase, and what the warm-up loaded. The promise: 0 non-2xx once the new instance reports ready.
#
#   load-tests/bench/restart-under-load.sh          # needs: python3, curl, psql
#
# Environment (defaults): USERS=1000 RATE=500 DURATION=60 RESTART_AT=20 GATEWAY_HEAP=512m SKIP_BUILD=0
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUT="$ROOT/load-tests/target/bench/restart-$(date -u +%Y%m%dT%H%M%SZ)"
USERS=${USERS:-1000}
RATE=${RATE:-500}
DURATION=${DURATION:-60}
RESTART_AT=${RESTART_AT:-20}
GATEWAY_HEAP=${GATEWAY_HEAP:-512m}
mkdir -p "$OUT"

PROBE_PID=
cleanup() { kill "${GW_PID:-}" "$PROBE_PID" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT

fresh_services
build_once
start_gateway "$OUT/gateway-1.log" "$GATEWAY_HEAP"
seed_users "$USERS" r- | tee "$OUT/seed.txt" >&2

say "load: $RATE requests/s over $USERS users for $DURATION s; restart after $RESTART_AT s"
probe "http://127.0.0.1:$GW_PORT/v1/rentals/r-{user}/predict" "$BENCH/rentals.json" "$RATE" "$DURATION" "$USERS" \
  "$OUT/requests.txt" >"$OUT/probe.txt" 2>&1 &
PROBE_PID=$!
sleep $(( RESTART_AT + 5 ))   # the probe's 5 s warm-up is not logged
stopped=$(date +%s%3N)
say "SIGTERM to the gateway (pid $GW_PID)"
kill -TERM "$GW_PID"; wait "$GW_PID" 2>/dev/null || true
exited=$(date +%s%3N)
say "it exited after $(( exited - stopped )) ms; starting a new one"
env SPRING_PROFILES_ACTIVE=local SERVER_PORT="$GW_PORT" MANAGEMENT_SERVER_PORT="$GW_MGMT" \
  SPRING_R2DBC_URL="r2dbc:postgresql://127.0.0.1:5432/$BENCH_DB" ${GATEWAY_ENV:-} \
  java -Xms"$GATEWAY_HEAP" -Xmx"$GATEWAY_HEAP" ${GATEWAY_JAVA_OPTS:-} -jar "$ROOT/gateway/target/gateway.jar" \
  >"$OUT/gateway-2.log" 2>&1 &
GW_PID=$!
until curl -fsS "http://127.0.0.1:$GW_MGMT/actuator/health/readiness" >"$OUT/readiness.json" 2>/dev/null; do
  kill -0 "$GW_PID" 2>/dev/null || { say "the new gateway exited; see $OUT/gateway-2.log"; exit 1; }
  sleep 0.05
done
ready=$(date +%s%3N)
say "the new gateway reported ready $(( ready - exited )) ms after the old one exited"
wait "$PROBE_PID" || true
PROBE_PID=

python3 - "$OUT/requests.txt" "$stopped" "$ready" "$OUT/readiness.json" <<'PY'
import json, sys
log, stopped, ready, readiness = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
phases = {"before the stop": [], "stop to ready": [], "after ready": []}
for line in open(log):
    due, status, micros = line.split()[:3]
    due = int(due)
    phase = "before the stop" if due < stopped else "stop to ready" if due < ready else "after ready"
    phases[phase].append((int(status), int(micros)))
def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] / 1000 if values else float("nan")
print("\n| phase | requests | non-2xx | of which no answer | p50 ms | p99 ms | max ms |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for name, rows in phases.items():
    bad = [r for r in rows if not 200 <= r[0] < 300]
    ok = [m for s, m in rows if 200 <= s < 300]
    print(f"| {name} | {len(rows):,} | {len(bad):,} | {sum(1 for s, _ in bad if s < 0):,} | {pct(ok, 50):.2f} | "
          f"{pct(ok, 99):.2f} | {max(ok) / 1000 if ok else float('nan'):.2f} |")
details = json.load(open(readiness)).get("components", {}).get("rentals", {}).get("details", {})
print(f"\nreadiness when first UP: {json.dumps(details)}")
PY
say "raw output in $OUT"
