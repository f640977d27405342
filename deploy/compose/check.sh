#!/usr/bin/env bash
# Validates this directory without a Docker daemon. Exits non-zero on the first failure. Runs from any working
# directory. Installs what is missing first (Debian/Ubuntu, as root or via `sudo -n`): docker-compose (1.29,
# which renders and validates a compose file without an engine), haproxy, python3-yaml; promtool through
# deploy/prometheus/promtool.sh.
#
#  1. `docker-compose config -q` with .env.example as the env file, with and without `--profile load`; then
#     check-compose.py asserts on the rendered configuration (read-only apps with an exec /tmp tmpfs, stop grace
#     >= 45 s, every secret from the env file, healthchecks, start order, scrape targets, mounts ...).
#  2. `docker-compose config` fails, naming the variable, when any required secret is missing from the env file.
#  3. `haproxy -c -f haproxy.cfg` (the only warnings allowed: gateway-1/gateway-2 not resolvable here).
#  4. `promtool check config` on prometheus.yml laid out as in the container (rules/ beside it), all rule files
#     of deploy/prometheus/rules loaded.
# Compose runs with a clean environment (env -i), so variables exported in your shell cannot mask a missing
# secret; your own deploy/compose/.env is never read.
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$DIR/../.." && pwd)"
cd "$DIR"
shopt -s nullglob

say() { printf '[check] %s\n' "$*"; }
die() { say "FAIL: $*"; exit 1; }

# as_root, apt_install
source "$ROOT/deploy/apt-install.sh"

# --- tools ----------------------------------------------------------------------------------------------------
missing=()
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
command -v haproxy >/dev/null 2>&1 || missing+=(haproxy)
PY=""
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import yaml' 2>/dev/null; then PY=$candidate; break; fi
done
[[ -n $PY ]] || missing+=(python3-yaml)
[[ ${#missing[@]} -eq 0 ]] || apt_install "${missing[@]}" || die "could not install ${missing[*]}"
if [[ -z $PY ]]; then
  /usr/bin/python3 -c 'import yaml' 2>/dev/null || die "python3-yaml installed but /usr/bin/python3 cannot import yaml"
  PY=/usr/bin/python3
fi
say "tools: $(docker-compose version --short 2>/dev/null | head -n1 | sed 's/^/docker-compose /'), $(haproxy -v | head -n1 | cut -d' ' -f1-3), $("$PY" -c 'import sys, yaml; print("python %d.%d + PyYAML %s" % (sys.version_info[0], sys.version_info[1], yaml.__version__))')"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/compose-check.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# docker-compose in a clean environment: only the env file given decides the ${...}.
compose() { env -i PATH="$PATH" HOME="$HOME" docker-compose -f "$DIR/docker-compose.yml" --project-directory "$DIR" "$@"; }

# Required variables: ${NAME:?...} in docker-compose.yml (the secrets).
mapfile -t REQUIRED < <(grep -o '\${[A-Z0-9_]*:?' docker-compose.yml | sed 's/^\${//; s/:?$//' | sort -u)
[[ ${#REQUIRED[@]} -gt 0 ]] || die "no required \${NAME:?...} variable in docker-compose.yml"
say "required secrets: ${REQUIRED[*]}"
for var in "${REQUIRED[@]}"; do
  grep -q "^$var=." .env.example || die ".env.example has no value for the required $var"
done

# --- 1. config -q, then assertions on the rendered file -------------------------------------------------------
cp .env.example "$TMP/example.env"
say "docker-compose --env-file .env.example config -q"
compose --env-file "$TMP/example.env" config -q || die "docker-compose config (above)"
say "docker-compose --env-file .env.example --profile load config -q"
compose --env-file "$TMP/example.env" --profile load config -q || die "docker-compose --profile load config (above)"

# Every secret replaced by a sentinel that appears nowhere else: a container value equal to it can only have come
# from the env file.
cp .env.example "$TMP/sentinel.env"
printf '{' >"$TMP/secrets.json"
sep=""
for var in "${REQUIRED[@]}"; do
  sentinel="sentinel-$var-$RANDOM$RANDOM"
  sed -i "s|^$var=.*|$var=$sentinel|" "$TMP/sentinel.env"
  printf '%s"%s": "%s"' "$sep" "$var" "$sentinel" >>"$TMP/secrets.json"
  sep=", "
done
printf '}\n' >>"$TMP/secrets.json"
say "docker-compose --profile load config (secrets as sentinels) | check-compose.py"
compose --env-file "$TMP/sentinel.env" --profile load config >"$TMP/rendered.yml" || die "docker-compose config (above)"
"$PY" "$DIR/check-compose.py" "$TMP/rendered.yml" "$TMP/secrets.json" || die "check-compose.py (the FAIL lines above)"

# --- 2. a missing secret fails ---------------------------------------------------------------------------------
for var in "${REQUIRED[@]}"; do
  grep -v "^$var=" .env.example >"$TMP/missing.env"
  say "without $var: docker-compose config must fail"
  if compose --env-file "$TMP/missing.env" config -q >"$TMP/missing.out" 2>&1; then
    die "docker-compose config passed without $var"
  fi
  grep -q "$var" "$TMP/missing.out" || { cat "$TMP/missing.out" >&2; die "the error does not name $var"; }
  say "  failed as it must: $(grep -m1 "$var" "$TMP/missing.out" | sed 's/.*: //')"
done

# --- 3. haproxy -c -------------------------------------------------------------------------------------------
say "haproxy -c -f haproxy.cfg"
if ! haproxy -c -f haproxy.cfg >"$TMP/haproxy.out" 2>&1; then cat "$TMP/haproxy.out" >&2; die "haproxy -c"; fi
grep -v "could not resolve address 'gateway-[12]'" "$TMP/haproxy.out" | grep -E '\[(WARNING|ALERT)\]' >&2 \
  && die "haproxy -c warned about more than the unresolvable gateway names (above)"
sed 's/^/  /' "$TMP/haproxy.out"

# --- 4. promtool check config, in the container's layout ------------------------------------------------------
rules=("$ROOT"/deploy/prometheus/rules/*.yml)
[[ ${#rules[@]} -gt 0 ]] || die "no rule files in deploy/prometheus/rules"
mkdir -p "$TMP/prometheus/rules"
cp prometheus.yml "$TMP/prometheus/prometheus.yml"
cp "${rules[@]}" "$TMP/prometheus/rules/"
say "promtool check config prometheus.yml (rules/ = deploy/prometheus/rules, as mounted in the container)"
(cd "$TMP/prometheus" && "$ROOT/deploy/prometheus/promtool.sh" check config prometheus.yml) | tee "$TMP/promtool.out" | sed 's/^/  /'
found=$(sed -n 's/.*SUCCESS: \([0-9]*\) rule files found.*/\1/p' "$TMP/promtool.out")
[[ "$found" == "${#rules[@]}" ]] || die "promtool loaded ${found:-no} rule files, deploy/prometheus/rules has ${#rules[@]}"

say "not checked here: Compose v2 itself (docker compose), Loki's own config check (no Loki binary), the images"
say "all checks passed"
