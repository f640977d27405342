#!/usr/bin/env bash
# Runs a real Prometheus (the Debian package's /usr/bin/prometheus, installed if missing) with this directory's
# config and rules against the locally running apps (deploy/local/run.sh): UI and API on 127.0.0.1:9090, data
# under .local-services/prometheus (or $LOCAL_SERVICES_DIR/prometheus). Waits until both targets are up and
# prints them. `run-local.sh stop` stops it.
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$DIR/../.." && pwd)"
DATA_DIR="${LOCAL_SERVICES_DIR:-$ROOT/.local-services}"
RUN_DIR="$DATA_DIR/prometheus"
PIDFILE="$RUN_DIR/prometheus.pid"
LOG="$RUN_DIR/prometheus.log"
LISTEN="127.0.0.1:9090"
URL="http://$LISTEN"
TIMEOUT="${PROMETHEUS_UP_TIMEOUT:-90}"   # seconds to wait for both targets to be up

say() { printf '[prometheus] %s\n' "$*"; }
die() { say "$*"; exit 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running() { [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

stop_prometheus() {
  if running; then
    say "stopping Prometheus (pid $(cat "$PIDFILE"))"
    kill "$(cat "$PIDFILE")"
    for _ in $(seq 1 100); do kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then die "pid $(cat "$PIDFILE") did not exit within 20 s"; fi
  fi
  rm -f "$PIDFILE"
}

if [[ "${1:-}" == "stop" ]]; then
  stop_prometheus
  exit 0
fi
[[ $# -eq 0 ]] || die "usage: $0 [stop]"

# Install logic shared with promtool.sh (package 'prometheus': promtool and /usr/bin/prometheus).
# shellcheck source-path=SCRIPTDIR source=promtool.sh
source "$DIR/promtool.sh"
install_prometheus_package server
PROMETHEUS_BIN=/usr/bin/prometheus
[[ -x $PROMETHEUS_BIN ]] || die "$PROMETHEUS_BIN not found"
command -v curl >/dev/null 2>&1 || die "curl is required"
command -v jq >/dev/null 2>&1 || die "jq is required (apt-get install jq)"

"$DIR/promtool.sh" check config "$DIR/prometheus.yml" >/dev/null || die "prometheus.yml is invalid: run $DIR/check.sh"

mkdir -p "$RUN_DIR/data"
stop_prometheus   # a restart picks up config and rule changes
if port_open 9090; then
  die "port 9090 on 127.0.0.1 is already in use by another process ($(ss -ltnpH 'sport = :9090' 2>/dev/null | sed -n 's/.*users:((\(.*\)))/\1/p' | head -n1))"
fi

say "starting $("$PROMETHEUS_BIN" --version 2>&1 | head -n1) on $LISTEN, data $RUN_DIR/data, log $LOG"
nohup "$PROMETHEUS_BIN" \
  --config.file="$DIR/prometheus.yml" \
  --storage.tsdb.path="$RUN_DIR/data" \
  --storage.tsdb.retention.time=7d \
  --web.listen-address="$LISTEN" \
  --web.enable-lifecycle \
  >"$LOG" 2>&1 </dev/null &
echo $! >"$PIDFILE"
started=$(date +%s)

for _ in $(seq 1 60); do
  curl -fsS "$URL/-/ready" >/dev/null 2>&1 && break
  if ! running; then say "Prometheus exited; last log lines:"; tail -n 30 "$LOG"; rm -f "$PIDFILE"; exit 1; fi
  sleep 0.5
done
curl -fsS "$URL/-/ready" >/dev/null 2>&1 || die "Prometheus not ready within 30 s; see $LOG"

# Both jobs must have every target up (the first scrape comes within one 15 s interval). Only samples scraped by
# this process count: after a restart the TSDB still answers the previous run's `up` for up to 5 minutes.
say "waiting for the gateway and retrainer targets to be up (query: up)"
query="up{job=~\"gateway|retrainer\"} and on (job, instance) timestamp(up{job=~\"gateway|retrainer\"}) >= $started"
up_json=""
deadline=$((SECONDS + TIMEOUT))
while :; do
  up_json=$(curl -fsS --get "$URL/api/v1/query" --data-urlencode "query=$query" 2>/dev/null || true)
  if [[ -n $up_json ]] && jq -e '
      ([.data.result[] | select(.value[1] == "1") | .metric.job] | unique) == ["gateway", "retrainer"]
      and ([.data.result[] | select(.value[1] != "1")] | length == 0)' <<<"$up_json" >/dev/null 2>&1; then
    break
  fi
  if ! running; then say "Prometheus exited; last log lines:"; tail -n 30 "$LOG"; rm -f "$PIDFILE"; exit 1; fi
  if (( SECONDS >= deadline )); then
    say "not every target is up after ${TIMEOUT} s (are the apps running? deploy/local/run.sh):"
    curl -fsS "$URL/api/v1/targets" 2>/dev/null \
      | jq -r '.data.activeTargets[] | "  \(.labels.job)\t\(.scrapeUrl)\t\(.health)\t\(.lastError)"' || true
    say "Prometheus keeps running (stop: $0 stop)"
    exit 1
  fi
  sleep 1
done

say "targets:"
jq -r '.data.result[] | "  up{job=\"\(.metric.job)\", instance=\"\(.metric.instance)\"} = \(.value[1])"' <<<"$up_json" | sort
say "UI $URL (alerts: $URL/alerts). Try:"
echo
echo "  curl -s --get $URL/api/v1/query --data-urlencode 'query=sum by (service) (rate(http_server_requests_seconds_count[1m]))'"
echo
say "stop: deploy/prometheus/run-local.sh stop"
