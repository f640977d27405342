#!/usr/bin/env bash
# Validates this directory without a cluster:
#   1. renders the base and every overlay with `kubectl kustomize` (kubectl installed first if needed);
#   2. validates every rendered object against the Kubernetes OpenAPI schemas, strictly (unknown fields and
#      unknown kinds fail), and the project's policies (validate/validate.mjs; its npm packages installed first
#      with `npm ci` from the committed package-lock.json), among them that the router routes as
#      deploy/compose/haproxy.cfg does;
#   3. `haproxy -c` on the router's haproxy.cfg as each target renders it, with the environment its pod would get
#      (haproxy installed first if needed); the only warnings allowed: gateway-N names not resolvable here;
#   4. proves the validator can fail: every fixture in validate/fixtures/ must be rejected, with each error its
#      `# expect:` lines name.
# Exits non-zero on the first failure. Runs from any working directory.
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$DIR"
shopt -s nullglob

say() { printf '[check] %s\n' "$*"; }
die() { say "FAILED: $*"; exit 1; }

# as_root, apt_install
source "$DIR/../apt-install.sh"

# --- kubectl ------------------------------------------------------------------------------------------------------
# The overlays use `labels:` and `patches:`, which need the kustomize built into kubectl >= 1.27 (kustomize v5).
# Debian's own package kubernetes-client (1.20, kustomize v2) is too old: it stops at "unknown field labels".
# The package `kubectl` comes from the Kubernetes project's or the Google Cloud SDK's apt repository, which must
# be configured in apt's sources for the install below to work.
# KUBECTL=/path/to/kubectl overrides the one on the PATH.
KUBECTL=${KUBECTL:-kubectl}
KUSTOMIZE_MIN_MAJOR=5

kustomize_major() {
  "$KUBECTL" version --client 2>/dev/null | sed -n 's/^Kustomize Version: v\([0-9][0-9]*\).*/\1/p'
}
kubectl_usable() {
  command -v "$KUBECTL" >/dev/null 2>&1 || return 1
  local major
  major=$(kustomize_major)
  [[ -n $major && $major -ge $KUSTOMIZE_MIN_MAJOR ]]
}
ensure_kubectl() {
  kubectl_usable && return 0
  if command -v "$KUBECTL" >/dev/null 2>&1; then
    say "$KUBECTL reports kustomize major version '$(kustomize_major)' (blank: none, too old), need v$KUSTOMIZE_MIN_MAJOR or newer: installing the package kubectl"
  else
    say "kubectl not found: installing the package kubectl"
  fi
  command -v apt-get >/dev/null 2>&1 || die "no apt-get: install kubectl >= 1.27 yourself (or set KUBECTL=/path/to/kubectl)"
  apt_install kubectl \
    || die "could not install kubectl: add the Kubernetes project's or the Google Cloud SDK's apt repository, or set KUBECTL"
  KUBECTL=kubectl   # the package's, whatever KUBECTL named before
  kubectl_usable || die "the package kubectl is installed, but $(command -v kubectl || echo kubectl) reports kustomize '$(kustomize_major)', older than v$KUSTOMIZE_MIN_MAJOR"
}

# --- the validator's npm packages ----------------------------------------------------------------------------------
ensure_validator() {
  command -v node >/dev/null 2>&1 || die "node not found: install Node.js 20 or newer (apt-get install nodejs npm)"
  command -v npm >/dev/null 2>&1 || die "npm not found (apt-get install npm)"
  local major
  major=$(node -p 'process.versions.node.split(".")[0]')
  [[ $major -ge 20 ]] || die "node $(node --version) is too old: need 20 or newer"
  # npm ci leaves node_modules/.package-lock.json; reinstall when it is missing or the lock file changed since.
  if [[ ! -f validate/node_modules/.package-lock.json || validate/package-lock.json -nt validate/node_modules/.package-lock.json ]]; then
    say "npm ci in validate/ (kubernetes-models, yaml; versions from package-lock.json)"
    (cd validate && npm ci --no-audit --no-fund --loglevel=error) || die "npm ci failed in $DIR/validate"
  fi
}

# --- haproxy -------------------------------------------------------------------------------------------------------
# The Debian package; any 2.x checks the configuration as the router's image (haproxy:2.6) reads it.
ensure_haproxy() {
  command -v haproxy >/dev/null 2>&1 && return 0
  [[ -x /usr/sbin/haproxy ]] && { PATH="$PATH:/usr/sbin"; return 0; }
  say "haproxy not found: installing the package haproxy"
  apt_install haproxy || die "could not install haproxy (apt-get install haproxy)"
  command -v haproxy >/dev/null 2>&1 || PATH="$PATH:/usr/sbin"
}

ensure_kubectl
ensure_validator
ensure_haproxy
say "kubectl: $("$KUBECTL" version --client 2>/dev/null | tr '\n' ' ')"
say "validator: node $(node --version), kubernetes-models $(node -p 'require("./validate/node_modules/kubernetes-models/package.json").version')"
say "haproxy: $(haproxy -v | head -n1 | cut -d' ' -f1-3)"

OUT=$(mktemp -d "${TMPDIR:-/tmp}/k8s-check.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

# --- 1 + 2 + 3: render, validate, haproxy -c -----------------------------------------------------------------------
overlays=(overlays/*/)
[[ ${#overlays[@]} -gt 0 ]] || die "no overlays in $DIR/overlays"
for want in local production; do
  [[ -d overlays/$want ]] || die "overlay $want missing"
done

# Each target: what to render, the policy set (--env), Secrets it may use without rendering them.
targets=("base|local|mlgateway-secrets")
for o in "${overlays[@]}"; do
  name=$(basename "$o")
  case $name in
    production) targets+=("overlays/$name|production|mlgateway-secrets") ;;  # created out of band (README.md)
    *) targets+=("overlays/$name|local|") ;;                                  # generates its own Secret
  esac
done

for t in "${targets[@]}"; do
  IFS='|' read -r path env ext <<<"$t"
  file="$OUT/$(echo "$path" | tr '/' '_').yaml"
  say "render: $KUBECTL kustomize deploy/k8s/$path"
  "$KUBECTL" kustomize "$path" >"$file" || die "kubectl kustomize $path failed"
  say "validate: deploy/k8s/$path ($(grep -c '^kind:' "$file") objects; schemas, unknown fields, policies --env $env${ext:+, external Secret $ext})"
  args=(--env "$env")
  [[ -n $ext ]] && args+=(--external-secret "$ext")
  rc=0
  node validate/validate.mjs "${args[@]}" "$file" | sed "s|$OUT/||" || rc=$?
  [[ $rc -eq 0 ]] || die "deploy/k8s/$path: invalid (above)"

  # The router's haproxy.cfg as this target's ConfigMap holds it, and the variables it expands as the pod's env
  # sets them (namespace and CPU limit from the downward API, resolved as the kubelet would).
  cfgdir="$OUT/$(echo "$path" | tr '/' '_').haproxy"
  routerenv=$(node validate/haproxy.mjs extract "$file" "$cfgdir") || die "deploy/k8s/$path: no router haproxy.cfg to check (above)"
  say "haproxy -c: the router's haproxy.cfg of deploy/k8s/$path ($routerenv)"
  mapfile -t envvars <"$cfgdir/haproxy.env"
  # In a clean environment: a variable the pod does not get must not come from this shell.
  if ! (cd "$cfgdir" && env -i PATH="$PATH" "${envvars[@]}" haproxy -c -f haproxy.cfg) >"$cfgdir/out" 2>&1; then
    sed 's/^/  /' "$cfgdir/out" >&2
    die "haproxy -c: deploy/k8s/$path"
  fi
  # The gateway pods do not exist here: their names cannot resolve (in a pod, those of pods not created yet).
  if grep -E '\[(WARNING|ALERT)\]' "$cfgdir/out" | grep -vE "'server gateways(-grpc)?/gateway-[0-9]+' : could not resolve address 'gateway-[0-9]+\.gateway-pods\.[^']*', disabling server\.$" >&2; then
    die "haproxy -c warned about more than the unresolvable gateway names (above): deploy/k8s/$path"
  fi
  say "  valid; $(grep -c 'could not resolve address' "$cfgdir/out") gateway names not resolvable here (expected)"
done

# --- 4: the validator must reject the broken fixtures ----------------------------------------------------------------
fixtures=(validate/fixtures/*.yaml)
[[ ${#fixtures[@]} -gt 0 ]] || die "no fixtures in $DIR/validate/fixtures"
for f in "${fixtures[@]}"; do
  # `# args:` (optional) are passed to validate.mjs; `# expect:` lines must each appear in its output.
  read -r -a fargs <<<"$(sed -n 's/^# args: *//p' "$f" | head -n1)"
  mapfile -t expects < <(sed -n 's/^# expect: *//p' "$f")
  [[ ${#expects[@]} -gt 0 ]] || die "$f has no '# expect:' lines"
  say "must reject: deploy/k8s/$f${fargs[*]:+ ${fargs[*]}} (${#expects[@]} expected errors)"
  rc=0
  out=$(node validate/validate.mjs "${fargs[@]}" "$f" 2>&1) || rc=$?
  printf '%s\n' "$out" | grep '^FAIL' | sed 's/^/    /' || true
  [[ $rc -eq 1 ]] || die "$f: validate.mjs exited $rc, expected 1 (0 = the broken fixture was ACCEPTED, 2 = crash)"
  for e in "${expects[@]}"; do
    grep -qF -- "$e" <<<"$out" || die "$f: the validator did not report: $e"
  done
  say "rejected as expected: deploy/k8s/$f (all ${#expects[@]} expected errors reported)"
done

say "all checks passed"
