# Installing Debian packages from the deploy scripts (source it): as root, or through sudo without a prompt.
#   as_root CMD...        runs CMD as root (127 if neither root nor sudo)
#   apt_install PKG...    apt-get install -y --no-install-recommends, without starting the packages' services (a
#                         temporary policy-rc.d answering 101, only if the system has none of its own: haproxy's or
#                         prometheus' postinst would start one), once more after apt-get update if it fails.
#                         Returns non-zero after printing the end of the apt log.

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
  else return 127
  fi
}

apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "[apt] missing $*; no apt-get: install them yourself" >&2
    return 1
  fi
  if [[ $(id -u) -ne 0 ]] && ! command -v sudo >/dev/null 2>&1; then
    echo "[apt] missing $*; not root and no sudo: run 'apt-get install $*' as root" >&2
    return 1
  fi
  local log own_policy=false rc=0
  log=$(mktemp "${TMPDIR:-/tmp}/deploy-apt.XXXXXX")
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    if printf '#!/bin/sh\n# temporary, from deploy/apt-install.sh\nexit 101\n' \
        | as_root tee /usr/sbin/policy-rc.d >/dev/null && as_root chmod 755 /usr/sbin/policy-rc.d; then
      own_policy=true
    fi
  fi
  echo "[apt] installing $* (log $log)" >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" >>"$log" 2>&1 </dev/null \
    || rc=$?
  if [[ $rc -ne 0 ]]; then
    echo "[apt] apt-get install failed (exit $rc); running apt-get update and retrying" >&2
    rc=0
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update >>"$log" 2>&1 </dev/null || rc=$?
    [[ $rc -eq 0 ]] && { as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" \
        >>"$log" 2>&1 </dev/null || rc=$?; }
  fi
  if [[ $own_policy == true ]]; then as_root rm -f /usr/sbin/policy-rc.d || true; fi
  if [[ $rc -ne 0 ]]; then
    tail -n 20 "$log" >&2
    echo "[apt] could not install $* (exit $rc; full log $log)" >&2
    return "$rc"
  fi
  rm -f "$log"
  hash -r
}
