#!/usr/bin/env bash
# Local "real services" for development and integration tests, without Docker:
#   PostgreSQL (>= 15), Redis (>= 7) and Apache Kafka 4.1 (single node, KRaft),
# all bound to 127.0.0.1 and keeping data + logs under one directory.
#
#   deploy/local/services.sh up | status | down | wipe
#   deploy/local/services.sh up | status | down  postgres | redis | kafka   (one service)
#
# See deploy/local/README.md for ports, credentials and environment overrides.
# This file only dispatches: each service lives in services/<name>.sh (its
# settings and up/status/down), what they share in services/common.sh. They
# are sourced, not run, so messages name this script ($0) as before.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

# Sourced before the command is looked at: they check the port overrides.
# shellcheck source=services/common.sh
. "$SCRIPT_DIR/services/common.sh"
# shellcheck source=services/postgres.sh
. "$SCRIPT_DIR/services/postgres.sh"
# shellcheck source=services/redis.sh
. "$SCRIPT_DIR/services/redis.sh"
# shellcheck source=services/kafka.sh
. "$SCRIPT_DIR/services/kafka.sh"

print_connection_info() {
  log "all services up. Connection settings:"
  log "  PostgreSQL  jdbc:postgresql://127.0.0.1:$PG_PORT/$PG_DB"
  log "              r2dbc:postgresql://127.0.0.1:$PG_PORT/$PG_DB   user=$PG_USER password=$PG_PASSWORD"
  log "  Redis       redis://127.0.0.1:$REDIS_PORT"
  log "  Kafka       bootstrap.servers=127.0.0.1:$KAFKA_PORT"
  log "  data/logs   $DATA_DIR   (stop: $0 down, wipe: $0 wipe)"
}

cmd_up() {
  local t0=$SECONDS
  ensure_prerequisites pg redis java
  take_lock
  mkdir -p "$LOG_DIR"
  # As root the cluster runs as 'postgres', which must traverse the data dir.
  if is_root; then chmod 755 "$DATA_DIR"; fi
  log "data dir: $DATA_DIR"
  pg_up
  redis_up
  kafka_up
  print_connection_info
  log "up took $((SECONDS - t0))s"
}

cmd_down() {
  if [[ ! -d $DATA_DIR ]]; then
    log "nothing to stop ($DATA_DIR does not exist)"
    return 0
  fi
  take_lock
  kafka_down
  redis_down
  pg_down
}

cmd_status() {
  local rc=0
  pg_status || rc=1
  redis_status || rc=1
  kafka_status || rc=1
  return $rc
}

# One service: up/down/status of postgres, redis or kafka alone (e.g. a fault test
# stopping one of them under load). The others are left as they are.
service_prefix() {
  case "$1" in
    postgres) echo pg ;;
    redis) echo redis ;;
    kafka) echo kafka ;;
    *) echo "[services] ERROR: unknown service '$1' (postgres, redis or kafka)" >&2; exit 2 ;;
  esac
}

cmd_one() {
  local cmd=$1 p; p=$(service_prefix "$2")
  case "$cmd" in
    up)
      ensure_prerequisites "$([[ $p == kafka ]] && echo java || echo "$p")"
      take_lock
      mkdir -p "$LOG_DIR"
      if is_root; then chmod 755 "$DATA_DIR"; fi
      "${p}_up" ;;
    down)
      if [[ ! -d $DATA_DIR ]]; then
        log "nothing to stop ($DATA_DIR does not exist)"
        return 0
      fi
      take_lock
      "${p}_down" ;;
    status) "${p}_status" ;;
  esac
}

cmd_wipe() {
  cmd_down
  pg_wipe
  log "removing $DATA_DIR"
  rm -rf "$DATA_DIR"
}

usage() {
  cat <<EOF
Usage: $0 up|status|down|wipe
       $0 up|status|down postgres|redis|kafka
  up      install missing packages (apt), start PostgreSQL, Redis and Kafka on 127.0.0.1, wait until ready
  status  one line per service; exit 0 only if all three are up
  down    stop all three (data is kept)
  wipe    down, then delete the data dir ($DATA_DIR)
  With a service name, up/status/down act on that service alone (the others are left as they are).
EOF
}

if (( $# == 2 )) && [[ $1 == up || $1 == status || $1 == down ]]; then
  cmd_one "$1" "$2"
  exit
fi

case "${1:-}" in
  up) cmd_up ;;
  status) cmd_status ;;
  down) cmd_down ;;
  wipe) cmd_wipe ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
