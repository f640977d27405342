# Shared by the bench scripts (source it): fresh services and a gateway to measure.
# The gateway under test logs its predictions to its own database, dropped and recreated on every run: a
# rental_predictions table grown by earlier runs (millions of random-UUID keys) slows PostgreSQL down and would
# make runs incomparable.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH="$ROOT/load-tests/bench"
GW_PORT=${GW_PORT:-18080}
GW_MGMT=${GW_MGMT:-18081}
API_KEY=local-dev-key
BENCH_DB=${BENCH_DB:-inference_bench}

say() { printf '[bench] %s\n' "$*" >&2; }

# Services up, with an empty database $BENCH_DB for the gateway under test and an empty Redis: cached models and
# the recently active users of an earlier run would otherwise warm this one.
fresh_services() {
  "$ROOT/deploy/local/services.sh" up >/dev/null
  PGPASSWORD=inference psql -h 127.0.0.1 -U inference -d inference -q -c "DROP DATABASE IF EXISTS $BENCH_DB" >/dev/null
  LOCAL_PG_DB=$BENCH_DB "$ROOT/deploy/local/services.sh" up >/dev/null
  redis-cli -p "${LOCAL_REDIS_PORT:-6379}" FLUSHDB >/dev/null
}

# start_gateway LOG HEAP [java options...]: starts $GATEWAY_JAR (default gateway/target/gateway.jar; another build's
# jar to compare two versions under the same load) ('local' profile, $BENCH_DB, the direct
# Netty routes on, as by default, unless DIRECT_ROUTES=false), sets
# GW_PID, returns once readiness is UP and rentals answers 200 (schema migrated, base model trained).
start_gateway() {
  local log=$1 heap=$2; shift 2
  env SPRING_PROFILES_ACTIVE=local SERVER_PORT="$GW_PORT" MANAGEMENT_SERVER_PORT="$GW_MGMT" \
    SPRING_R2DBC_URL="r2dbc:postgresql://127.0.0.1:5432/$BENCH_DB" \
    GATEWAY_API_DIRECT_ROUTES="${DIRECT_ROUTES:-true}" ${GATEWAY_ENV:-} \
    java -Xms"$heap" -Xmx"$heap" "$@" ${GATEWAY_JAVA_OPTS:-} -jar "${GATEWAY_JAR:-$ROOT/gateway/target/gateway.jar}" >"$log" 2>&1 &
  GW_PID=$!
  local code=000
  for _ in $(seq 1 240); do
    kill -0 "$GW_PID" 2>/dev/null || { say "the gateway exited; see $log"; tail -20 "$log" >&2 || true; return 1; }
    if curl -fsS "http://127.0.0.1:$GW_MGMT/actuator/health/readiness" >/dev/null 2>&1; then
      code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$GW_PORT/v1/rentals/user-1/predict" \
        -H "x-api-key: $API_KEY" -H 'content-type: application/json' --data @"$BENCH/rentals.json")
      [[ $code == 200 ]] && return 0
    fi
    sleep 0.5
  done
  say "the gateway was not serving rentals after 120 s (last answer $code); see $log"
  kill "$GW_PID" 2>/dev/null || true
  return 1
}

# Builds gateway.jar and load-tests' classes and class path once, unless SKIP_BUILD=1.
build_once() {
  if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    say "building (./mvnw -q -DskipTests package -pl load-tests -am)"
    (cd "$ROOT" && ./mvnw -q -B -DskipTests package -pl load-tests -am)
  fi
  [[ -f "$ROOT/load-tests/target/classpath.txt" ]] || { say "no load-tests/target/classpath.txt: build first (unset SKIP_BUILD)"; exit 1; }
}

# Runs a java main of load-tests with its class path.
load_tests_java() {
  java -cp "$ROOT/load-tests/target/classes:$(cat "$ROOT/load-tests/target/classpath.txt")" "$@"
}

# seed_users COUNT PREFIX: gives users PREFIX1..PREFIXCOUNT a model of their own in $BENCH_DB (SeedUserModels):
# SEED_TREES (50) own trees fitted on a window of SEED_HOURS (4000) hours, as the residual policy makes them.
seed_users() {
  say "seeding $1 users ($2 1..$1) with models of their own (${SEED_TREES:-50} trees on ${SEED_HOURS:-4000} hours)"
  load_tests_java io.mlgateway.loadtests.seed.SeedUserModels "r2dbc:postgresql://127.0.0.1:5432/$BENCH_DB" \
    inference inference "$1" "$2" "${SEED_TREES:-50}" 2 "${SEED_HOURS:-4000}" "${SEED_DISTINCT:-200}"
}

# probe URL BODY RATE SECONDS USERS [LOG]: FixedRateProbe, open loop, 5 s unrecorded warm-up.
probe() {
  load_tests_java -Xmx256m io.mlgateway.loadtests.probe.FixedRateProbe "$1" "$2" "$3" "$4" 5 "$API_KEY" "$5" ${6:+"$6"}
}

# wrk_summary FILE: "rps p50ms p99ms errors" from a wrk --latency output.
wrk_summary() {
  awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /^ +50%/ { p50 = ms($2) } /^ +99%/ { p99 = ms($2) }
    /Requests\/sec/ { rps = $2 }
    /Non-2xx/ { err += $NF } /Socket errors/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
    END { printf "%s %s %s %d\n", rps, p50, p99, err }' "$1"
}
