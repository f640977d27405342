#!/usr/bin/env bash
# Local "real services" for development and integration tests, without Docker:
#   PostgreSQL (>= 15), Redis (>= 7) and Apache Kafka 4.1 (single node, KRaft),
# all bound to 127.0.0.1 and keeping data + logs under one directory.
#
#   deploy/local/services.sh up | status | down | wipe
#
# See deploy/local/README.md for ports, credentials and environment overrides.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

DATA_DIR=$(realpath -m "${LOCAL_SERVICES_DIR:-$ROOT/.local-services}")

PG_PORT=${LOCAL_PG_PORT:-5432}
PG_DB=${LOCAL_PG_DB:-inference}
PG_USER=${LOCAL_PG_USER:-inference}
PG_PASSWORD=${LOCAL_PG_PASSWORD:-inference}
PG_MIN_VERSION=15
REDIS_PORT=${LOCAL_REDIS_PORT:-6379}
REDIS_MIN_VERSION=7
KAFKA_PORT=${LOCAL_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${LOCAL_KAFKA_CONTROLLER_PORT:-9093}
JAVA_MIN_VERSION=17

PG_TIMEOUT=${LOCAL_PG_TIMEOUT:-30}
REDIS_TIMEOUT=${LOCAL_REDIS_TIMEOUT:-30}
KAFKA_TIMEOUT=${LOCAL_KAFKA_TIMEOUT:-90}

LOG_DIR=$DATA_DIR/logs
REDIS_DIR=$DATA_DIR/redis
REDIS_CONF=$REDIS_DIR/redis.conf
KAFKA_DIR=$DATA_DIR/kafka
KAFKA_LIB=$KAFKA_DIR/lib
KAFKA_CONF=$KAFKA_DIR/server.properties
KAFKA_DATA=$KAFKA_DIR/data
KAFKA_LOGS=$KAFKA_DIR/logs
KAFKA_PID=$KAFKA_DIR/kafka.pid
KAFKA_POM=$SCRIPT_DIR/kafka/pom.xml
KAFKA_LOG4J=$SCRIPT_DIR/kafka/log4j2.xml
KAFKA_TOOLS_LOG4J=$SCRIPT_DIR/kafka/tools-log4j2.xml

# PostgreSQL lives in $DATA_DIR/postgres (a directory, or a symlink to a fallback
# directory, see pg_prepare_home): data/ = PGDATA, run/ = unix socket dir, postgres.log.
PG_LINK=$DATA_DIR/postgres

APT_INSTALLED_PG=false

for _p in PG_PORT REDIS_PORT KAFKA_PORT KAFKA_CONTROLLER_PORT; do
  if ! [[ ${!_p} =~ ^[0-9]+$ ]] || (( ${!_p} < 1 || ${!_p} > 65535 )); then
    echo "[services] ERROR: invalid port for LOCAL_$_p: '${!_p}'" >&2; exit 2
  fi
done
unset _p

log() { echo "[services] $*"; }
warn() { echo "[services] WARNING: $*" >&2; }
die() { echo "[services] ERROR: $*" >&2; exit 1; }

# Prints the last lines of a log file to stderr (used on failures/timeouts).
tail_log() {
  local file=$1 n=${2:-40}
  if [[ -r $file ]]; then
    echo "[services] ---- last $n lines of $file ----" >&2
    tail -n "$n" "$file" >&2 || true
    echo "[services] ----" >&2
  else
    echo "[services] (no log at $file)" >&2
  fi
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Describes the process listening on TCP port $1 ("pid N: cmdline"), when ss can tell.
port_holder() {
  command -v ss >/dev/null 2>&1 || { echo "unknown process"; return 0; }
  local pid
  pid=$(ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9][0-9]*\).*/\1/p' | head -n1 || true)
  if [[ -z $pid ]]; then echo "unknown process"; return 0; fi
  local cmd
  cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | sed 's/ *$//' || true)
  (( ${#cmd} > 220 )) && cmd="${cmd:0:60} ... ${cmd: -150}"
  echo "pid $pid: $cmd"
}

is_root() { [[ $(id -u) -eq 0 ]]; }

# Runs a command with root privileges (directly, or via sudo when available).
as_root() {
  if is_root; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else return 127
  fi
}

# ----------------------------------------------------------------------------
# Prerequisites (binaries), installed with apt on Debian/Ubuntu.
# ----------------------------------------------------------------------------

PG_BIN=""
# Newest Debian-layout /usr/lib/postgresql/<ver>/bin; else whatever pg_config or
# PATH provides (other distributions / Homebrew).
find_pg_bin() {
  PG_BIN=""
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
    [[ -x $d/postgres && -x $d/initdb && -x $d/pg_ctl ]] && PG_BIN=$d
  done
  if [[ -z $PG_BIN ]]; then
    for d in "$(pg_config --bindir 2>/dev/null || true)" "$(dirname "$(command -v pg_ctl 2>/dev/null || echo /nonexistent/x)")"; do
      if [[ -n $d && -x $d/postgres && -x $d/initdb && -x $d/pg_ctl && -x $d/psql && -x $d/pg_isready ]]; then
        PG_BIN=$d; break
      fi
    done
  fi
  [[ -n $PG_BIN ]]
}
pg_major() { "$PG_BIN/postgres" --version 2>/dev/null | sed -n 's/.*(PostgreSQL) \([0-9][0-9]*\).*/\1/p' || true; }
pg_ok() {
  find_pg_bin || return 1
  local v; v=$(pg_major)
  [[ -n $v ]] && (( v >= PG_MIN_VERSION ))
}

redis_major() { redis-server --version 2>/dev/null | sed -n 's/.* v=\([0-9][0-9]*\)\..*/\1/p' || true; }
redis_ok() {
  command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1 || return 1
  local v; v=$(redis_major)
  [[ -n $v ]] && (( v >= REDIS_MIN_VERSION ))
}

java_major() {
  java -version 2>&1 | sed -n 's/.* version "\([0-9][0-9]*\)[."].*/\1/p' | head -n1 || true
}
java_ok() {
  command -v java >/dev/null 2>&1 || return 1
  local v; v=$(java_major)
  [[ -n $v ]] && (( v >= JAVA_MIN_VERSION ))
}

print_manual_install_help() {
  cat >&2 <<EOF
[services] Please install the missing prerequisites with your package manager, then re-run:
[services]   - PostgreSQL >= $PG_MIN_VERSION server binaries (expected under /usr/lib/postgresql/<ver>/bin,
[services]     Debian layout; e.g. PGDG packages 'postgresql-16' on Debian/Ubuntu)
[services]   - Redis >= $REDIS_MIN_VERSION ('redis-server' and 'redis-cli' on PATH)
[services]   - a JDK/JRE $JAVA_MIN_VERSION+ ('java' on PATH; also needed by ./mvnw)
EOF
}

ensure_prerequisites() {
  local pkgs=()
  pg_ok || pkgs+=(postgresql)
  redis_ok || pkgs+=(redis-server)
  java_ok || pkgs+=(default-jre-headless)
  if (( ${#pkgs[@]} == 0 )); then
    return 0
  fi
  log "missing prerequisites: ${pkgs[*]}"
  if ! command -v apt-get >/dev/null 2>&1; then
    print_manual_install_help
    die "no apt-get on this system; install the prerequisites listed above"
  fi
  if ! is_root && ! command -v sudo >/dev/null 2>&1; then
    print_manual_install_help
    die "not root and no sudo: cannot run apt-get; install: ${pkgs[*]}"
  fi
  mkdir -p "$LOG_DIR"
  local apt_log=$LOG_DIR/apt.log
  log "apt-get update && apt-get install ${pkgs[*]} (output in $apt_log)"
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update >>"$apt_log" 2>&1 </dev/null; then
    tail_log "$apt_log"; die "apt-get update failed"
  fi
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" \
      >>"$apt_log" 2>&1 </dev/null; then
    tail_log "$apt_log"; die "apt-get install ${pkgs[*]} failed"
  fi
  [[ " ${pkgs[*]} " == *" postgresql "* ]] && APT_INSTALLED_PG=true
  if ! pg_ok; then
    print_manual_install_help
    die "PostgreSQL >= $PG_MIN_VERSION not found after install (found: ${PG_BIN:-none}); your distribution's default is too old — install e.g. postgresql-16 from apt.postgresql.org"
  fi
  redis_ok || { print_manual_install_help; die "Redis >= $REDIS_MIN_VERSION not found after install (redis-server --version: $(redis-server --version 2>&1 || true))"; }
  java_ok || { print_manual_install_help; die "Java >= $JAVA_MIN_VERSION not found after install"; }
  log "installed: ${pkgs[*]}"
}

# ----------------------------------------------------------------------------
# PostgreSQL
# ----------------------------------------------------------------------------

# initdb/postgres refuse to run as root: as root, the cluster belongs to the
# 'postgres' OS user (created by the Debian package); otherwise to the current user.
if is_root; then PG_OS_USER=postgres; else PG_OS_USER=$(id -un); fi

as_pg() {
  if ! is_root; then "$@"; return; fi
  # cd / so that tools do not complain about an unreadable working directory.
  if command -v runuser >/dev/null 2>&1; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && su -s /bin/bash postgres -c "$(printf '%q ' "$@")")
  fi
}

PG_HOME="" PGDATA_DIR="" PG_SOCK="" PG_LOG=""
pg_set_paths() {
  PG_HOME=$1
  PGDATA_DIR=$PG_HOME/data
  PG_LOG=$PG_HOME/postgres.log
  PG_SOCK=$PG_HOME/run
  # A unix socket path must fit in sun_path (~107 bytes). With a very deep data
  # dir, fall back to a short private dir in /tmp (still only reachable by the
  # cluster owner: mode 0700).
  if (( ${#PG_SOCK} + 16 > 100 )); then
    PG_SOCK=/tmp/local-services-pg-$(printf '%s' "$DATA_DIR" | cksum | cut -d' ' -f1)
  fi
}

# Resolves PG_HOME for an existing data dir (status/down); returns 1 if none.
pg_find_home() {
  if [[ -L $PG_LINK ]]; then pg_set_paths "$(readlink "$PG_LINK")"
  elif [[ -d $PG_LINK ]]; then pg_set_paths "$PG_LINK"
  else return 1
  fi
}

# Creates PG_HOME for `up`.
#
# Permission problem: when running as root the cluster must be owned by and run
# as 'postgres', which therefore needs search (x) permission on every parent of
# the data dir. The default data dir (<repo>/.local-services) is normally
# reachable, but a checkout under e.g. /root (mode 0700) is not. Rather than
# chmod'ing the user's directories (which would silently weaken their
# permissions), we then keep the PostgreSQL files in a per-data-dir directory
# under the postgres user's home (/var/lib/postgresql/local-services/<hash>)
# and put a symlink at $DATA_DIR/postgres, so everything is still found through
# the one data dir; `wipe` removes the symlink target as well.
pg_prepare_home() {
  if pg_find_home; then
    [[ -d $PG_HOME ]] || die "$PG_LINK points to missing $PG_HOME; run '$0 wipe' (or remove $PG_LINK)"
  elif ! is_root || as_pg test -x "$DATA_DIR"; then
    mkdir -p "$PG_LINK"
    pg_set_paths "$PG_LINK"
  else
    local pg_user_home fallback
    pg_user_home=$(getent passwd postgres | cut -d: -f6)
    [[ -n $pg_user_home && -d $pg_user_home ]] || die "the postgres user cannot reach $DATA_DIR and has no home dir; set LOCAL_SERVICES_DIR to a world-traversable path"
    fallback=$pg_user_home/local-services/$(printf '%s' "$DATA_DIR" | cksum | cut -d' ' -f1)
    log "postgres (OS user) cannot traverse to $DATA_DIR; keeping PostgreSQL files in $fallback (symlinked from $PG_LINK)"
    if [[ -e $fallback ]]; then
      # Left over from a data dir that was deleted by hand: it is stale.
      log "removing stale $fallback (its data dir was deleted)"
      if [[ -f $fallback/data/postmaster.pid ]]; then
        as_pg "$PG_BIN/pg_ctl" -D "$fallback/data" -m fast -w stop >/dev/null 2>&1 || true
      fi
      rm -rf "$fallback"
    fi
    mkdir -p "$fallback"
    chown postgres:postgres "$pg_user_home/local-services" "$fallback"
    ln -s "$fallback" "$PG_LINK"
    pg_set_paths "$fallback"
  fi
  if is_root; then chown "$PG_OS_USER": "$PG_HOME"; fi
  chmod 700 "$PG_HOME"
  if [[ ! -d $PG_SOCK ]]; then
    mkdir -p "$PG_SOCK"
  fi
  if is_root; then chown "$PG_OS_USER": "$PG_SOCK"; fi
  chmod 700 "$PG_SOCK"
}

pg_running() {
  [[ -n $PGDATA_DIR && -f $PGDATA_DIR/postmaster.pid ]] || return 1
  as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" status >/dev/null 2>&1
}
pg_pid() { head -n1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null || echo -; }
pg_running_port() { sed -n 4p "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true; }

pg_ready() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2 >/dev/null 2>&1; }

pg_login_check() {
  local out
  out=$(PGPASSWORD=$PG_PASSWORD PGCONNECT_TIMEOUT=5 "$PG_BIN/psql" -w -X -q -At \
        -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" -c 'select 1' 2>&1) || { echo "$out" >&2; return 1; }
  [[ $out == 1 ]]
}

# Writes our settings (regenerated on every `up`, so env overrides apply).
pg_write_config() {
  local conf=$PGDATA_DIR/local-services.conf
  cat >"$conf" <<EOF
# Generated by deploy/local/services.sh on every 'up' - do not edit.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
unix_socket_permissions = 0700
max_connections = 200
password_encryption = 'scram-sha-256'
EOF
  # Local (unix socket, dir mode 0700 => only the cluster owner) is trusted and
  # used by this script for admin work; TCP requires a password (SCRAM).
  cat >"$PGDATA_DIR/pg_hba.conf" <<'EOF'
# Generated by deploy/local/services.sh - do not edit.
# TYPE  DATABASE  USER  ADDRESS        METHOD
local   all       all                  trust
host    all       all   127.0.0.1/32   scram-sha-256
host    all       all   ::1/128        scram-sha-256
EOF
  if ! grep -q "^include_if_exists = 'local-services.conf'" "$PGDATA_DIR/postgresql.conf"; then
    printf "\n# Added by deploy/local/services.sh\ninclude_if_exists = 'local-services.conf'\n" >>"$PGDATA_DIR/postgresql.conf"
  fi
  if is_root; then chown "$PG_OS_USER": "$conf" "$PGDATA_DIR/pg_hba.conf"; fi
  chmod 600 "$conf" "$PGDATA_DIR/pg_hba.conf"
}

# Explains (or, if our own apt-get install just started it, stops) whatever
# else holds the PostgreSQL port.
pg_handle_port_conflict() {
  local line ver name
  line=$(pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p && $4 ~ /^online/ {print $1, $2; exit}' || true)
  if [[ -n $line ]]; then
    read -r ver name <<<"$line"
    if [[ $APT_INSTALLED_PG == true ]]; then
      log "the postgresql package just installed by this script auto-started the Debian system cluster $ver/$name on port $PG_PORT; stopping it (pg_ctlcluster $ver $name stop)"
      as_root pg_ctlcluster "$ver" "$name" stop || die "could not stop Debian cluster $ver/$name"
      for _ in $(seq 1 20); do port_open "$PG_PORT" || return 0; sleep 0.5; done
      die "port $PG_PORT still in use after stopping cluster $ver/$name"
    fi
    die "port $PG_PORT is used by the Debian system PostgreSQL cluster $ver/$name (not ours).
[services]   Stop it:   sudo pg_ctlcluster $ver $name stop   (and 'sudo systemctl disable postgresql' to keep it off)
[services]   or use another port:   LOCAL_PG_PORT=55432 $0 up"
  fi
  die "port $PG_PORT on 127.0.0.1 is already in use by another process (not our cluster in $PGDATA_DIR):
[services]   $(port_holder "$PG_PORT")
[services]   (if that is services.sh of another checkout/data dir, run its 'down'); stop it, or use another port:  LOCAL_PG_PORT=55432 $0 up"
}

pg_setup_role_db() {
  as_pg "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$PG_PORT" -U postgres -d postgres \
      -v u="$PG_USER" -v pw="$PG_PASSWORD" -v db="$PG_DB" >/dev/null <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'u') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
ALTER ROLE :"u" WITH LOGIN PASSWORD :'pw';
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'u') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
}

pg_up() {
  if is_root && ! getent passwd postgres >/dev/null 2>&1; then
    die "running as root but there is no 'postgres' OS user to own the cluster (initdb refuses root); create one (useradd -r -m -d /var/lib/postgresql postgres) or run as a normal user"
  fi
  pg_prepare_home
  if pg_running; then
    local rport; rport=$(pg_running_port)
    if [[ $rport != "$PG_PORT" ]]; then
      die "our PostgreSQL cluster is already running on port $rport (pid $(pg_pid)), not $PG_PORT; run '$0 down' first"
    fi
    log "postgres: already running (pid $(pg_pid), port $PG_PORT)"
  else
    if port_open "$PG_PORT"; then pg_handle_port_conflict; fi
    if [[ ! -f $PGDATA_DIR/PG_VERSION ]]; then
      log "postgres: initdb (PostgreSQL $(pg_major), owner OS user '$PG_OS_USER') in $PGDATA_DIR"
      rm -rf "$PGDATA_DIR"
      if ! as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" -U postgres -E UTF8 --no-locale \
            --auth-local=trust --auth-host=scram-sha-256 >"$PG_HOME/initdb.log" 2>&1; then
        tail_log "$PG_HOME/initdb.log"; die "initdb failed"
      fi
    fi
    pg_write_config
    log "postgres: starting on 127.0.0.1:$PG_PORT"
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -l "$PG_LOG" -w -t "$PG_TIMEOUT" start >/dev/null 2>&1 9>&-; then
      tail_log "$PG_LOG"; die "PostgreSQL did not start within ${PG_TIMEOUT}s"
    fi
  fi
  local deadline=$((SECONDS + PG_TIMEOUT))
  until pg_ready; do
    if (( SECONDS >= deadline )); then tail_log "$PG_LOG"; die "PostgreSQL not accepting connections on 127.0.0.1:$PG_PORT after ${PG_TIMEOUT}s"; fi
    sleep 0.5
  done
  if ! pg_setup_role_db; then tail_log "$PG_LOG"; die "could not create role '$PG_USER' / database '$PG_DB'"; fi
  if ! pg_login_check; then tail_log "$PG_LOG"; die "login as '$PG_USER' to '$PG_DB' over 127.0.0.1:$PG_PORT failed"; fi
  log "postgres: ready (pid $(pg_pid)), login as '$PG_USER' to '$PG_DB' OK"
}

pg_down() {
  find_pg_bin || { log "postgres: no PostgreSQL binaries, nothing to stop"; return 0; }
  if ! pg_find_home || ! pg_running; then
    log "postgres: not running"
    return 0
  fi
  log "postgres: stopping (pid $(pg_pid))"
  if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 stop >/dev/null 2>&1; then
    tail_log "$PG_LOG"; die "pg_ctl stop failed"
  fi
  log "postgres: stopped"
}

pg_status() {
  if find_pg_bin && pg_find_home && pg_running; then
    printf '[services] %-9s up    port=%s pid=%s data=%s\n' postgres "$(pg_running_port)" "$(pg_pid)" "$PGDATA_DIR"
    return 0
  fi
  pg_find_home || pg_set_paths "$PG_LINK"
  printf '[services] %-9s down  port=%s pid=- data=%s\n' postgres "$PG_PORT" "$PGDATA_DIR"
  return 1
}

# ----------------------------------------------------------------------------
# Redis
# ----------------------------------------------------------------------------

# All helpers take the port as $1 and never fail (they are used in $(...)
# assignments under set -e, also against ports where no Redis listens).
redis_info_field() {
  timeout 5 redis-cli -h 127.0.0.1 -p "$1" info server 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p" || true
}
redis_ping() { [[ $(timeout 5 redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | tr -d '\r' || true) == PONG ]]; }
redis_is_ours() { port_open "$1" && [[ $(redis_info_field "$1" config_file) == "$REDIS_CONF" ]]; }

# Port of the instance of this data dir: the one in its generated redis.conf
# (so down/status find it even if LOCAL_REDIS_PORT changed since 'up').
redis_conf_port() {
  local p=""
  [[ -f $REDIS_CONF ]] && p=$(awk '$1 == "port" {print $2; exit}' "$REDIS_CONF" 2>/dev/null || true)
  echo "${p:-$REDIS_PORT}"
}

redis_write_config() {
  mkdir -p "$REDIS_DIR"
  cat >"$REDIS_CONF" <<EOC
# Generated by deploy/local/services.sh on every start - do not edit.
port $REDIS_PORT
bind 127.0.0.1
protected-mode yes
daemonize yes
pidfile "$REDIS_DIR/redis.pid"
logfile "$REDIS_DIR/redis.log"
dir "$REDIS_DIR"
dbfilename dump.rdb
save 3600 1 300 100 60 10000
appendonly no
EOC
}

# Something else answers on the Redis port: stop it only if it is the
# Debian-packaged system instance (started by apt's postinst/init script).
redis_handle_port_conflict() {
  local cfg; cfg=$(redis_info_field "$REDIS_PORT" config_file)
  if [[ $cfg == /etc/redis/redis.conf ]]; then
    log "redis: port $REDIS_PORT is held by the Debian system redis-server (config /etc/redis/redis.conf, probably auto-started by apt); stopping it"
    if command -v service >/dev/null 2>&1 && as_root service redis-server stop >/dev/null 2>&1; then
      log "redis: ran 'service redis-server stop' (use 'systemctl disable redis-server' to keep it off at boot)"
    else
      log "redis: 'service redis-server stop' unavailable/failed; sending SHUTDOWN to the system instance via redis-cli"
      redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
    fi
    for _ in $(seq 1 20); do port_open "$REDIS_PORT" || return 0; sleep 0.5; done
    die "port $REDIS_PORT still in use after stopping the system redis-server"
  fi
  local what="not our Redis"
  [[ -n $cfg ]] && what="a Redis with config '$cfg'"
  die "port $REDIS_PORT on 127.0.0.1 is already used by another process ($what; $(port_holder "$REDIS_PORT")).
[services]   Stop it, or use another port:  LOCAL_REDIS_PORT=16379 $0 up"
}

redis_up() {
  local cport; cport=$(redis_conf_port)
  if redis_is_ours "$cport"; then
    if [[ $cport != "$REDIS_PORT" ]]; then
      die "our Redis is already running on port $cport, not $REDIS_PORT; run '$0 down' first"
    fi
    log "redis: already running (pid $(redis_info_field "$REDIS_PORT" process_id), port $REDIS_PORT)"
    return 0
  fi
  if port_open "$REDIS_PORT"; then redis_handle_port_conflict; fi
  redis_write_config
  log "redis: starting on 127.0.0.1:$REDIS_PORT ($(redis-server --version | awk '{print $3}'))"
  if ! redis-server "$REDIS_CONF" >>"$REDIS_DIR/redis.log" 2>&1 </dev/null 9>&-; then
    tail_log "$REDIS_DIR/redis.log"; die "redis-server failed to start"
  fi
  local deadline=$((SECONDS + REDIS_TIMEOUT))
  until redis_ping "$REDIS_PORT"; do
    if (( SECONDS >= deadline )); then tail_log "$REDIS_DIR/redis.log"; die "Redis did not answer PING on 127.0.0.1:$REDIS_PORT within ${REDIS_TIMEOUT}s"; fi
    sleep 0.3
  done
  redis_is_ours "$REDIS_PORT" || die "a Redis answers on $REDIS_PORT but it is not the one configured by $REDIS_CONF"
  log "redis: ready (pid $(redis_info_field "$REDIS_PORT" process_id)), PING -> PONG"
}

redis_down() {
  local port; port=$(redis_conf_port)
  if ! command -v redis-cli >/dev/null 2>&1 || ! redis_is_ours "$port"; then
    log "redis: not running"
    return 0
  fi
  local pid; pid=$(redis_info_field "$port" process_id)
  log "redis: stopping (pid $pid, port $port)"
  # SHUTDOWN SAVE keeps the data across restarts. redis-cli exits 0 even on an
  # error reply (e.g. the save failed), so look at the reply and fall back to NOSAVE.
  local reply
  reply=$(redis-cli -h 127.0.0.1 -p "$port" shutdown save 2>&1 || true)
  if [[ -n $reply ]] && kill -0 "$pid" 2>/dev/null; then
    warn "redis: 'SHUTDOWN SAVE' answered: $reply; using SHUTDOWN NOSAVE"
    redis-cli -h 127.0.0.1 -p "$port" shutdown nosave >/dev/null 2>&1 || true
  fi
  for _ in $(seq 1 40); do
    if ! kill -0 "$pid" 2>/dev/null; then log "redis: stopped"; return 0; fi
    sleep 0.5
  done
  warn "redis: pid $pid still alive after SHUTDOWN; sending SIGTERM"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do
    if ! kill -0 "$pid" 2>/dev/null; then log "redis: stopped"; return 0; fi
    sleep 0.5
  done
  die "Redis (pid $pid) did not stop"
}

redis_status() {
  local port; port=$(redis_conf_port)
  if command -v redis-cli >/dev/null 2>&1 && redis_is_ours "$port" && redis_ping "$port"; then
    printf '[services] %-9s up    port=%s pid=%s data=%s\n' redis "$port" "$(redis_info_field "$port" process_id)" "$REDIS_DIR"
    return 0
  fi
  printf '[services] %-9s down  port=%s pid=- data=%s\n' redis "$REDIS_PORT" "$REDIS_DIR"
  return 1
}

# ----------------------------------------------------------------------------
# Kafka (KRaft, combined broker + controller), classpath fetched by Maven
# ----------------------------------------------------------------------------

kafka_pid() { cat "$KAFKA_PID" 2>/dev/null || true; }

# Our broker is running: the pidfile's process is alive and is a kafka.Kafka
# started with our server.properties (guards against pid reuse).
kafka_running() {
  local pid; pid=$(kafka_pid)
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 1
  local cmd; cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || ps -o args= -p "$pid" 2>/dev/null || true)
  [[ $cmd == *kafka.Kafka* && $cmd == *"$KAFKA_CONF"* ]]
}

# Broker port of the instance of this data dir (from its generated server.properties).
kafka_conf_port() {
  local p=""
  [[ -f $KAFKA_CONF ]] && p=$(sed -n 's|^advertised.listeners=PLAINTEXT://127.0.0.1:\([0-9]*\).*|\1|p' "$KAFKA_CONF" 2>/dev/null || true)
  echo "${p:-$KAFKA_PORT}"
}

kafka_lib_stamp() { { cat "$KAFKA_POM"; echo "lib-layout-1"; } | sha256sum | cut -d' ' -f1; }

kafka_fetch_lib() {
  local stamp; stamp=$(kafka_lib_stamp)
  if [[ -f $KAFKA_LIB/.complete && $(cat "$KAFKA_LIB/.complete") == "$stamp" ]]; then
    return 0
  fi
  mkdir -p "$LOG_DIR"
  local mvn_log=$LOG_DIR/kafka-maven.log
  log "kafka: fetching broker jars from Maven Central via ./mvnw (deploy/local/kafka/pom.xml -> $KAFKA_LIB)"
  rm -rf "$KAFKA_LIB"
  mkdir -p "$KAFKA_LIB"
  if ! (cd "$ROOT" && ./mvnw -q -B -f "$KAFKA_POM" dependency:copy-dependencies \
          -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIB") >"$mvn_log" 2>&1 </dev/null; then
    tail_log "$mvn_log"; die "Maven could not fetch the Kafka classpath"
  fi
  ls "$KAFKA_LIB"/kafka_2.13-*.jar >/dev/null 2>&1 || die "kafka_2.13 jar missing in $KAFKA_LIB after Maven fetch"
  echo "$stamp" >"$KAFKA_LIB/.complete"
  log "kafka: $(ls "$KAFKA_LIB"/*.jar | wc -l) jars in $KAFKA_LIB"
}

kafka_java() {
  java -cp "$KAFKA_LIB/*" -Dlog4j2.configurationFile="$KAFKA_TOOLS_LOG4J" "$@"
}

kafka_write_config() {
  mkdir -p "$KAFKA_DATA" "$KAFKA_LOGS"
  cat >"$KAFKA_CONF" <<EOF
# Generated by deploy/local/services.sh on every 'up' - do not edit.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KAFKA_DATA
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
log.retention.hours=168
EOF
}

kafka_format() {
  [[ -f $KAFKA_DATA/meta.properties ]] && return 0
  local cid
  if [[ -s $KAFKA_DIR/cluster.id ]]; then
    cid=$(cat "$KAFKA_DIR/cluster.id")
  else
    cid=$(kafka_java kafka.tools.StorageTool random-uuid 2>>"$KAFKA_LOGS/format.log" | tail -n1 || true)
    [[ -n $cid ]] || { tail_log "$KAFKA_LOGS/format.log"; die "kafka-storage random-uuid failed"; }
    echo "$cid" >"$KAFKA_DIR/cluster.id"
  fi
  log "kafka: formatting KRaft storage in $KAFKA_DATA (cluster id $cid)"
  if ! kafka_java kafka.tools.StorageTool format -t "$cid" -c "$KAFKA_CONF" >>"$KAFKA_LOGS/format.log" 2>&1; then
    tail_log "$KAFKA_LOGS/format.log"; die "kafka storage format failed"
  fi
}

# Readiness: the broker must answer a metadata request (list topics).
kafka_ready() {
  timeout 30 java -cp "$KAFKA_LIB/*" -Dlog4j2.configurationFile="$KAFKA_TOOLS_LOG4J" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" --list >/dev/null 2>&1
}

kafka_up() {
  if kafka_running; then
    local cport; cport=$(kafka_conf_port)
    if [[ $cport != "$KAFKA_PORT" ]]; then
      die "our Kafka is already running on port $cport (pid $(kafka_pid)), not $KAFKA_PORT; run '$0 down' first"
    fi
    log "kafka: already running (pid $(kafka_pid), port $KAFKA_PORT)"
  else
    local p
    for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
      if port_open "$p"; then
        die "port $p on 127.0.0.1 is already used by another process (not our Kafka, pidfile $KAFKA_PID):
[services]   $(port_holder "$p")
[services]   Stop it, or use other ports:  LOCAL_KAFKA_PORT=19092 LOCAL_KAFKA_CONTROLLER_PORT=19093 $0 up"
      fi
    done
    kafka_fetch_lib
    kafka_write_config
    kafka_format
    rm -f "$KAFKA_PID"
    log "kafka: starting on 127.0.0.1:$KAFKA_PORT (controller 127.0.0.1:$KAFKA_CONTROLLER_PORT)"
    local jvm_opts=(-Xms256m -Xmx512m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true
                    -Dlog4j2.configurationFile="$KAFKA_LOG4J" -Dkafka.logs.dir="$KAFKA_LOGS")
    # setsid: own session, so the broker survives the calling shell/CI step;
    # the inner bash records its own pid and then execs java (same pid).
    # shellcheck disable=SC2016  # $$ / $1 / $@ are expanded by the inner bash
    nohup setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$KAFKA_PID" \
      java "${jvm_opts[@]}" -cp "$KAFKA_LIB/*" kafka.Kafka "$KAFKA_CONF" \
      >>"$KAFKA_LOGS/stdout.log" 2>&1 </dev/null 9>&- &
    for _ in $(seq 1 50); do [[ -s $KAFKA_PID ]] && break; sleep 0.1; done
  fi
  local deadline=$((SECONDS + KAFKA_TIMEOUT))
  until port_open "$KAFKA_PORT" && kafka_ready; do
    if ! kafka_running; then
      tail_log "$KAFKA_LOGS/stdout.log" 20; tail_log "$KAFKA_LOGS/server.log"
      die "Kafka process exited during startup"
    fi
    if (( SECONDS >= deadline )); then
      tail_log "$KAFKA_LOGS/stdout.log" 20; tail_log "$KAFKA_LOGS/server.log"
      die "Kafka did not serve metadata on 127.0.0.1:$KAFKA_PORT within ${KAFKA_TIMEOUT}s (still running as pid $(kafka_pid); '$0 down' to stop it)"
    fi
    sleep 1
  done
  log "kafka: ready (pid $(kafka_pid)), metadata request OK"
}

kafka_down() {
  if ! kafka_running; then
    rm -f "$KAFKA_PID"
    log "kafka: not running"
    return 0
  fi
  local pid; pid=$(kafka_pid)
  log "kafka: stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 120); do
    if ! kill -0 "$pid" 2>/dev/null; then rm -f "$KAFKA_PID"; log "kafka: stopped"; return 0; fi
    sleep 0.5
  done
  warn "Kafka (pid $pid) did not stop within 60s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 1
  rm -f "$KAFKA_PID"
}

kafka_status() {
  local port; port=$(kafka_conf_port)
  if kafka_running && port_open "$port"; then
    printf '[services] %-9s up    port=%s pid=%s data=%s\n' kafka "$port" "$(kafka_pid)" "$KAFKA_DATA"
    return 0
  fi
  printf '[services] %-9s down  port=%s pid=%s data=%s\n' kafka "$KAFKA_PORT" "$(kafka_running && kafka_pid || echo -)" "$KAFKA_DATA"
  return 1
}

# ----------------------------------------------------------------------------
# Commands
# ----------------------------------------------------------------------------

# Serialise concurrent invocations that change state. The lock fd (9) must not
# leak into the daemons we start (they would hold the lock forever), hence the
# '9>&-' on every daemon launch below.
take_lock() {
  mkdir -p "$DATA_DIR"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"$DATA_DIR/.lock"
    if ! flock -n 9; then
      log "waiting for another services.sh working on $DATA_DIR ..."
      flock -w 300 9 || die "timed out waiting for the lock $DATA_DIR/.lock (held by: $(fuser "$DATA_DIR/.lock" 2>/dev/null || echo '?'))"
    fi
  fi
}

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
  ensure_prerequisites
  take_lock
  mkdir -p "$LOG_DIR"
  if is_root; then chmod 755 "$DATA_DIR"; fi
  log "data dir: $DATA_DIR"
  find_pg_bin
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

cmd_wipe() {
  cmd_down
  if [[ -L $PG_LINK ]]; then
    local target; target=$(readlink "$PG_LINK")
    log "removing $target"
    rm -rf "$target"
  fi
  log "removing $DATA_DIR"
  rm -rf "$DATA_DIR"
  if [[ -n ${PG_SOCK:-} && $PG_SOCK == /tmp/local-services-pg-* ]]; then rm -rf "$PG_SOCK"; fi
}

usage() {
  cat <<EOF
Usage: $0 up|status|down|wipe
  up      install missing packages (apt), start PostgreSQL, Redis and Kafka on 127.0.0.1, wait until ready
  status  one line per service; exit 0 only if all three are up
  down    stop all three (data is kept)
  wipe    down, then delete the data dir ($DATA_DIR)
EOF
}

case "${1:-}" in
  up) cmd_up ;;
  status) cmd_status ;;
  down) cmd_down ;;
  wipe) cmd_wipe ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac
