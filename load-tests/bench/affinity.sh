#!/usr/bin/env bash
# Many users over several gateways behind HAProxy routing by user (deploy/compose/haproxy.cfg, addresses made local
# by BalancerConfig): USERS users with policy-sized models (SeedUserModels: 50 own trees of depth 6 on 4,000 hours)
# over GATEWAYS gateways.
#   1. a uniform sweep: every user asked for once (UserSweep, 64 in flight), then each gateway's share of the users
#      and the fleet's summed model memory against one copy of every user. Before it, the gateways' JIT and
#      connection pools are warmed by a sweep over WARM_USERS other users (w-1..), reported apart;
#   2. RATE requests/s over all users (FixedRateProbe, open loop, every request logged) for DURATION s; after STOP_AT
#      s gateway-2 gets SIGTERM, after RESTART_AT s it starts again (same name, so it warms its own users). Reported:
#      failed requests, which users the others loaded while it was down (from their metrics, against the users of
#      gateway-2 asked for meanwhile, from the balancer's log), the restarted gateway's warm-up, and p99 per second
#      after it is ready against the steady state's.
# Writes load-tests/target/bench/affinity-<time>/ (logs, metrics, requests.txt) and prints the tables.
#
#   load-tests/bench/affinity.sh            # needs: haproxy, python3, curl, psql, redis-cli
#
# Environment (defaults): USERS=100000 GATEWAYS=4 GATEWAY_HEAP=1400m MAX_BYTES=900MB (each gateway's tier: its quarter
#   of 100,000 users is ~730 MB) WARM_USERS=2000 RATE=500 DURATION=150 STOP_AT=40 RESTART_AT=60 SKIP_BUILD=0
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
OUT="$ROOT/load-tests/target/bench/affinity-$(date -u +%Y%m%dT%H%M%SZ)"
USERS=${USERS:-100000}
GATEWAYS=${GATEWAYS:-4}
GATEWAY_HEAP=${GATEWAY_HEAP:-1400m}
MAX_BYTES=${MAX_BYTES:-900MB}
WARM_USERS=${WARM_USERS:-2000}
RATE=${RATE:-500}
DURATION=${DURATION:-150}
STOP_AT=${STOP_AT:-40}
RESTART_AT=${RESTART_AT:-60}
LB_PORT=18300
LB_STATS=18301
LB_HEALTH=18302
for tool in haproxy python3 curl psql redis-cli; do
  command -v "$tool" >/dev/null || { say "$tool is missing (apt-get install haproxy python3 curl postgresql-client redis-tools)"; exit 1; }
done
mkdir -p "$OUT"

declare -A GW_PIDS
LB_PID=
PROBE_PID=
cleanup() {
  kill "${GW_PIDS[@]}" "$LB_PID" "$PROBE_PID" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT

gateway_port() { echo $(( 18310 + $1 )); }
gateway_management() { echo $(( 18320 + $1 )); }
gateway_env() {
  echo "GATEWAY_MODEL_CACHE_WARM_UP_INSTANCE=gateway-$1 GATEWAY_MODEL_CACHE_MAX_BYTES=$MAX_BYTES" \
    "GATEWAY_MODEL_CACHE_WARM_UP_TIMEOUT=180s GATEWAY_HTTP_SHUTDOWN_DRAIN=5s"
}
start_named_gateway() { # i
  GW_PORT=$(gateway_port "$1") GW_MGMT=$(gateway_management "$1") GATEWAY_ENV="$(gateway_env "$1")" \
    start_gateway "$OUT/gateway-$1$2.log" "$GATEWAY_HEAP"
  GW_PIDS[$1]=$GW_PID
}
metrics_of() { curl -fsS "http://127.0.0.1:$(gateway_management "$1")/actuator/prometheus" 2>/dev/null || true; }
snapshot() { # name: every running gateway's metrics
  for i in $(seq 1 "$GATEWAYS"); do metrics_of "$i" >"$OUT/metrics-$1-gateway-$i.txt"; done
}

fresh_services
build_once
for i in $(seq 1 "$GATEWAYS"); do
  say "starting gateway-$i on :$(gateway_port "$i") (heap $GATEWAY_HEAP, tier $MAX_BYTES)"
  start_named_gateway "$i" ""
done
seed_users "$USERS" a- | tee "$OUT/seed.txt" >&2
(( WARM_USERS > 0 )) && seed_users "$WARM_USERS" w- >>"$OUT/seed.txt" 2>&1

SERVERS=()
for i in $(seq 1 "$GATEWAYS"); do SERVERS+=("gateway-$i=$(gateway_port "$i"):$(gateway_management "$i")"); done
load_tests_java io.mlgateway.loadtests.affinity.BalancerConfig "$ROOT/deploy/compose/haproxy.cfg" \
  "$LB_PORT" "$LB_STATS" "$LB_HEALTH" "${SERVERS[@]}" >"$OUT/haproxy.cfg"
haproxy -db -f "$OUT/haproxy.cfg" >"$OUT/haproxy.log" 2>&1 &
LB_PID=$!
up_servers() { curl -fsS "http://127.0.0.1:$LB_STATS/;csv" 2>/dev/null | grep -c '^gateways,gateway-.*,UP,' || true; }
for _ in $(seq 1 60); do (( $(up_servers) == GATEWAYS )) && break; sleep 0.5; done
(( $(up_servers) == GATEWAYS )) || { say "HAProxy did not see $GATEWAYS gateways up"; exit 1; }

if (( WARM_USERS > 0 )); then
  say "warm-up: $WARM_USERS other users once through the balancer (JIT, connection pools)"
  load_tests_java io.mlgateway.loadtests.affinity.UserSweep "http://127.0.0.1:$LB_PORT" w- "$WARM_USERS" \
    "$BENCH/rentals.json" 64 | sed 's/^/warm-up /' | tee "$OUT/warm-up.txt" >&2
fi
say "sweep: each of $USERS users once through the balancer"
load_tests_java io.mlgateway.loadtests.affinity.UserSweep "http://127.0.0.1:$LB_PORT" a- "$USERS" "$BENCH/rentals.json" 64 \
  | tee "$OUT/sweep.txt" >&2
snapshot sweep

say "load: $RATE requests/s over $USERS users for $DURATION s; gateway-2 stopped at $STOP_AT s, started at $RESTART_AT s"
probe "http://127.0.0.1:$LB_PORT/v1/rentals/a-{user}/predict" "$BENCH/rentals.json" "$RATE" "$DURATION" "$USERS" \
  "$OUT/requests.txt" >"$OUT/probe.txt" 2>&1 &
PROBE_PID=$!
sleep $(( STOP_AT + 5 ))   # the probe's 5 s warm-up is not logged
snapshot stop
stopped=$(date +%s%3N)
say "SIGTERM to gateway-2 (pid ${GW_PIDS[2]})"
kill -TERM "${GW_PIDS[2]}"; wait "${GW_PIDS[2]}" 2>/dev/null || true
exited=$(date +%s%3N)
pause=$(( RESTART_AT - STOP_AT - (exited - stopped) / 1000 ))
(( pause > 0 )) && sleep "$pause"
snapshot restart
restarting=$(date +%s%3N)
say "starting gateway-2 again"
start_named_gateway 2 "-restarted"
ready=$(date +%s%3N)
curl -fsS "http://127.0.0.1:$(gateway_management 2)/actuator/health/readiness" >"$OUT/readiness-restarted.json" || true
wait "$PROBE_PID" || true
PROBE_PID=
snapshot end
say "probe: $(tail -1 "$OUT/probe.txt")"

echo "$USERS $GATEWAYS $stopped $exited $restarting $ready" >"$OUT/times.txt"
python3 "$BENCH/affinity-report.py" "$OUT"
