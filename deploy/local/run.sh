#!/usr/bin/env bash
# Runs the product locally: real services up, the gateway and the retrainer built and started in the
# background, a working curl printed. `run.sh stop` stops both apps (services keep running; `services.sh down`
# stops them).
#
# The apps run from copies of their jars in $RUN_DIR/jars, never from */target: any later build (the load
# scripts', the replay's, your own ./mvnw) repackages target/*.jar, and a JVM whose jar is rewritten under it dies
# at its next class load. SKIP_BUILD=1 starts the jars already built.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
DATA_DIR="${LOCAL_SERVICES_DIR:-$ROOT/.local-services}"
RUN_DIR="${LOCAL_RUN_DIR:-$DATA_DIR/apps}"
PORT="${SERVER_PORT:-8080}"
MANAGEMENT_PORT="${MANAGEMENT_SERVER_PORT:-8081}"
RETRAINER_PORT="${RETRAINER_PORT:-8082}"

say() { printf '[run] %s\n' "$*"; }

stop_app() { # name
  local pidfile="$RUN_DIR/$1.pid"
  if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    say "stopping $1 (pid $(cat "$pidfile"))"
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 100); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.2; done
  fi
  rm -f "$pidfile"
}

if [[ "${1:-}" == "stop" ]]; then
  stop_app gateway
  stop_app retrainer
  exit 0
fi

"$ROOT/deploy/local/services.sh" up

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  say "building the jars (./mvnw -DskipTests package)"
  (cd "$ROOT" && ./mvnw -q -B -DskipTests package)
fi

mkdir -p "$RUN_DIR/jars"
stop_app gateway
stop_app retrainer
for app in gateway retrainer; do
  [[ -f "$ROOT/$app/target/$app.jar" ]] || { say "no $app/target/$app.jar: build first (unset SKIP_BUILD)"; exit 1; }
  cp "$ROOT/$app/target/$app.jar" "$RUN_DIR/jars/$app.jar"
done
# The 'local' profile accepts the dev-only key local-dev-key unless GATEWAY_API_KEYS (key hashes) is set; the
# example below sends API_KEY, the plain key, which the gateway's configuration never holds.
API_KEY="${API_KEY:-local-dev-key}"
say "starting the gateway on :$PORT (management :$MANAGEMENT_PORT), log $RUN_DIR/gateway.log"
SPRING_PROFILES_ACTIVE="${SPRING_PROFILES_ACTIVE:-local}" SERVER_PORT="$PORT" MANAGEMENT_SERVER_PORT="$MANAGEMENT_PORT" \
  nohup java ${GATEWAY_JAVA_OPTS:--Xms768m -Xmx768m} -jar "$RUN_DIR/jars/gateway.jar" \
  >"$RUN_DIR/gateway.log" 2>&1 </dev/null &
echo $! >"$RUN_DIR/gateway.pid"

for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$MANAGEMENT_PORT/actuator/health/readiness" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$(cat "$RUN_DIR/gateway.pid")" 2>/dev/null; then
    say "the gateway exited; last log lines:"; tail -n 30 "$RUN_DIR/gateway.log"; exit 1
  fi
  sleep 0.5
done
curl -fsS "http://127.0.0.1:$MANAGEMENT_PORT/actuator/health/readiness" >/dev/null \
  || { say "the gateway did not become ready in 60 s; see $RUN_DIR/gateway.log"; exit 1; }

# The gateway owns the schema (it migrated it above); the retrainer starts once the gateway is ready.
say "starting the retrainer (actuator on :$RETRAINER_PORT), log $RUN_DIR/retrainer.log"
# The retrainer serves its actuator on its one port: the gateway's MANAGEMENT_SERVER_PORT is not its own.
env -u MANAGEMENT_SERVER_PORT SPRING_PROFILES_ACTIVE="${SPRING_PROFILES_ACTIVE:-local}" SERVER_PORT="$RETRAINER_PORT" \
  nohup java ${RETRAINER_JAVA_OPTS:--Xms256m -Xmx512m} -jar "$RUN_DIR/jars/retrainer.jar" \
  >"$RUN_DIR/retrainer.log" 2>&1 </dev/null &
echo $! >"$RUN_DIR/retrainer.pid"
for _ in $(seq 1 120); do
  curl -fsS "http://127.0.0.1:$RETRAINER_PORT/actuator/health" >/dev/null 2>&1 && break
  if ! kill -0 "$(cat "$RUN_DIR/retrainer.pid")" 2>/dev/null; then
    say "the retrainer exited; last log lines:"; tail -n 30 "$RUN_DIR/retrainer.log"; exit 1
  fi
  sleep 0.5
done

CURL="curl -s -X POST http://127.0.0.1:$PORT/reg/ -H 'x-api-key: $API_KEY' -H 'content-type: application/json' --data @deploy/local/sample-regno.json"
say "gateway ready. Try (from $ROOT):"
echo
echo "  $CURL"
echo
say "its answer now:"
(cd "$ROOT" && eval "$CURL")
echo
say "metrics: gateway http://127.0.0.1:$MANAGEMENT_PORT/actuator/prometheus, retrainer http://127.0.0.1:$RETRAINER_PORT/actuator/prometheus"
say "stop: deploy/local/run.sh stop"
