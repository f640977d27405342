# shellcheck shell=bash
# PostgreSQL (>= 15): this data dir's own cluster, not the Debian system one.
# Sourced by deploy/local/services.sh after common.sh; defines pg_up, pg_status,
# pg_down, pg_wipe and the prerequisite hooks pg_* (see ensure_prerequisites).

PG_PORT=${LOCAL_PG_PORT:-5432}
PG_DB=${LOCAL_PG_DB:-inference}
PG_USER=${LOCAL_PG_USER:-inference}
PG_PASSWORD=${LOCAL_PG_PASSWORD:-inference}
PG_MIN_VERSION=15
PG_TIMEOUT=${LOCAL_PG_TIMEOUT:-30}
check_port PG_PORT

# PostgreSQL lives in $DATA_DIR/postgres (a directory, or a symlink to a fallback
# directory, see pg_prepare_home): data/ = PGDATA, run/ = unix socket dir, postgres.log.
# shellcheck disable=SC2153  # DATA_DIR is set by common.sh (not a typo of PGDATA_DIR)
PG_LINK=$DATA_DIR/postgres

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
pg_apt_pkg() { echo postgresql; }
pg_install_help() {
  cat <<EOH
[services]   - PostgreSQL >= $PG_MIN_VERSION server binaries (expected under /usr/lib/postgresql/<ver>/bin,
[services]     Debian layout; e.g. PGDG packages 'postgresql-16' on Debian/Ubuntu)
EOH
}
pg_not_found() {
  echo "PostgreSQL >= $PG_MIN_VERSION not found after install (found: ${PG_BIN:-none}); your distribution's default is too old — install e.g. postgresql-16 from apt.postgresql.org"
}

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
    if apt_installed postgresql; then
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
  find_pg_bin  # sets PG_BIN (ensure_prerequisites has made sure there is one)
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

# After pg_down, before the data dir goes: the fallback directory behind the
# symlink (see pg_prepare_home) and a socket dir in /tmp are outside the data dir.
pg_wipe() {
  if [[ -L $PG_LINK ]]; then
    local target; target=$(readlink "$PG_LINK")
    log "removing $target"
    rm -rf "$target"
  fi
  if [[ -n ${PG_SOCK:-} && $PG_SOCK == /tmp/local-services-pg-* ]]; then rm -rf "$PG_SOCK"; fi
}
