#!/usr/bin/env bash
# Runs promtool with the given arguments, e.g. `promtool.sh check config prometheus.yml`.
# If promtool is missing it first installs the Debian package `prometheus` (promtool + the server binary
# /usr/bin/prometheus), as root or via `sudo -n`, without leaving the packaged Prometheus service running: the
# package's postinst would start it on :9090 and, where systemd runs, enable it at boot.
#
# run-local.sh sources this file for install_prometheus_package (nothing runs when sourced).
set -euo pipefail

PROMETHEUS_PORT_DEFAULT=9090

_promtool_say() { printf '[promtool.sh] %s\n' "$*" >&2; }
_promtool_die() { _promtool_say "$*"; exit 1; }

_promtool_port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

_promtool_as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else return 127
  fi
}

# Stops (and, under systemd, disables) the packaged service that apt may just have started.
_promtool_stop_packaged_service() {
  if [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null 2>&1; then
    _promtool_as_root systemctl disable --now prometheus.service >/dev/null 2>&1 || true
  fi
  if [[ -x /etc/init.d/prometheus ]] && _promtool_as_root /etc/init.d/prometheus status >/dev/null 2>&1; then
    _promtool_say "stopping the prometheus service started by the package install"
    _promtool_as_root /etc/init.d/prometheus stop >/dev/null 2>&1 || true
  fi
}

# Installs the Debian package `prometheus` unless promtool (and, with $1 = server, /usr/bin/prometheus) exists.
install_prometheus_package() {
  local need=${1:-promtool}
  if command -v promtool >/dev/null 2>&1 && { [[ $need != server ]] || [[ -x /usr/bin/prometheus ]]; }; then
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 || _promtool_die "promtool not found and no apt-get: install Prometheus 2.x (promtool) yourself"
  if [[ $(id -u) -ne 0 ]] && ! command -v sudo >/dev/null 2>&1; then
    _promtool_die "promtool not found; not root and no sudo: run 'apt-get install prometheus' as root"
  fi
  local port=$PROMETHEUS_PORT_DEFAULT busy_before=false own_policy=false log
  _promtool_port_open "$port" && busy_before=true
  log=$(mktemp "${TMPDIR:-/tmp}/promtool-apt.XXXXXX")

  # Debian's policy layer: exit 101 = "do not start services" for invoke-rc.d and deb-systemd-invoke. Only
  # added (and removed again) if the system has none of its own.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    if printf '#!/bin/sh\n# temporary, from deploy/prometheus/promtool.sh\nexit 101\n' \
        | _promtool_as_root tee /usr/sbin/policy-rc.d >/dev/null && _promtool_as_root chmod 755 /usr/sbin/policy-rc.d; then
      own_policy=true
    fi
  fi
  _promtool_say "installing the Debian package prometheus (apt-get install -y --no-install-recommends prometheus; log $log)"
  local rc=0
  _promtool_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends prometheus \
      >>"$log" 2>&1 </dev/null || rc=$?
  if [[ $rc -ne 0 ]]; then
    _promtool_say "apt-get install failed (exit $rc); running apt-get update and retrying"
    rc=0
    _promtool_as_root env DEBIAN_FRONTEND=noninteractive apt-get update >>"$log" 2>&1 </dev/null || rc=$?
    [[ $rc -eq 0 ]] && { _promtool_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
        --no-install-recommends prometheus >>"$log" 2>&1 </dev/null || rc=$?; }
  fi
  if [[ $own_policy == true ]]; then _promtool_as_root rm -f /usr/sbin/policy-rc.d || true; fi
  if [[ $rc -ne 0 ]]; then
    tail -n 20 "$log" >&2
    _promtool_die "could not install the prometheus package (exit $rc; full log $log)"
  fi
  _promtool_stop_packaged_service
  if [[ $busy_before == false ]]; then
    for _ in $(seq 1 20); do _promtool_port_open "$port" || break; sleep 0.5; done
    _promtool_port_open "$port" && _promtool_die "port $port is in use after installing prometheus; stop the packaged service (service prometheus stop)"
  fi
  command -v promtool >/dev/null 2>&1 || _promtool_die "promtool still not found after installing the prometheus package"
  rm -f "$log"
  _promtool_say "installed: $(promtool --version 2>&1 | head -n1)"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  install_prometheus_package promtool
  exec promtool "$@"
fi
