# shellcheck shell=bash
# Shared by the per-service scripts next to it; sourced (never run) by
# deploy/local/services.sh, which sets SCRIPT_DIR (deploy/local) and ROOT (the
# repo) and 'set -euo pipefail' before sourcing. Holds only what is not about
# one service: the data dir, messages, port probes, root/apt helpers, the lock.

DATA_DIR=$(realpath -m "${LOCAL_SERVICES_DIR:-$ROOT/.local-services}")
LOG_DIR=$DATA_DIR/logs

log() { echo "[services] $*"; }
warn() { echo "[services] WARNING: $*" >&2; }
die() { echo "[services] ERROR: $*" >&2; exit 1; }

# Exits 2 unless the variable named $1 (set from LOCAL_$1) holds a TCP port.
# Each service script checks its ports when sourced, i.e. before any command runs.
check_port() {
  if ! [[ ${!1} =~ ^[0-9]+$ ]] || (( ${!1} < 1 || ${!1} > 65535 )); then
    echo "[services] ERROR: invalid port for LOCAL_$1: '${!1}'" >&2; exit 2
  fi
}

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

# ensure_prerequisites P... takes prefixes (pg, redis, java) whose service
# script defines:
#   P_ok            the binaries are there, at least the minimum version
#   P_apt_pkg       prints the apt package that provides them
#   P_install_help  prints (to stdout) what to install by hand, as '[services]   - ...' lines
#   P_not_found     prints the error for when P_ok still fails after apt-get install
# All missing packages go into one apt-get run (one 'apt-get update').

# What this run's apt-get installed: pg_handle_port_conflict stops a Debian
# cluster that the just-installed postgresql package auto-started, never one
# that was there before.
APT_INSTALLED=""
apt_installed() { [[ $APT_INSTALLED == *" $1 "* ]]; }

print_manual_install_help() {
  echo "[services] Please install the missing prerequisites with your package manager, then re-run:" >&2
  local p
  for p in "$@"; do "${p}_install_help" >&2; done
}

ensure_prerequisites() {
  local pkgs=() p
  for p in "$@"; do "${p}_ok" || pkgs+=("$("${p}_apt_pkg")"); done
  if (( ${#pkgs[@]} == 0 )); then
    return 0
  fi
  log "missing prerequisites: ${pkgs[*]}"
  if ! command -v apt-get >/dev/null 2>&1; then
    print_manual_install_help "$@"
    die "no apt-get on this system; install the prerequisites listed above"
  fi
  if ! is_root && ! command -v sudo >/dev/null 2>&1; then
    print_manual_install_help "$@"
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
  APT_INSTALLED=" ${pkgs[*]} "
  # apt may well install a version that is still too old (e.g. the default
  # PostgreSQL of an older Ubuntu release), hence the check after installing.
  for p in "$@"; do
    "${p}_ok" || { print_manual_install_help "$@"; die "$("${p}_not_found")"; }
  done
  log "installed: ${pkgs[*]}"
}

# ----------------------------------------------------------------------------
# Lock
# ----------------------------------------------------------------------------

# Serialise concurrent invocations that change state. The lock fd (9) must not
# leak into the daemons we start (they would hold the lock forever), hence the
# '9>&-' on every daemon launch in the service scripts.
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
