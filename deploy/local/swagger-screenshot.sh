#!/usr/bin/env bash
# Screenshots the running gateway's Swagger UI with headless Chromium (docs/swagger-ui.png by default) and checks
# that the page really rendered the API: every path of the served OpenAPI document must appear in the page, so an
# empty UI, an error page or the wrong document fails instead of leaving a misleading picture.
# It starts nothing: run deploy/local/run.sh first, or point GATEWAY_URL at a gateway. Debian's chromium is
# installed with apt-get when no Chromium is found.
# Usage: deploy/local/swagger-screenshot.sh [output.png]     (GATEWAY_URL, default http://127.0.0.1:8080)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
GATEWAY_URL="${GATEWAY_URL:-http://127.0.0.1:${SERVER_PORT:-8080}}"
GATEWAY_URL="${GATEWAY_URL%/}"
OUT="$(realpath -m "${1:-$ROOT/docs/swagger-ui.png}")"

say() { printf '[swagger-screenshot] %s\n' "$*"; }
die() { say "$*" >&2; exit 1; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if ! curl -fsS -o "$WORK/api-docs.json" "$GATEWAY_URL/v3/api-docs" 2>"$WORK/curl.err"; then
  die "no gateway serves $GATEWAY_URL/v3/api-docs ($(tr -d '\n' <"$WORK/curl.err")).
Start one with deploy/local/run.sh (or set GATEWAY_URL); if it runs, it may have the document turned off
(SPRINGDOC_API_DOCS_ENABLED=false)."
fi

find_chromium() {
  local name
  for name in chromium chromium-browser google-chrome; do
    if command -v "$name" >/dev/null 2>&1; then command -v "$name"; return 0; fi
  done
  return 1
}
if ! CHROMIUM="$(find_chromium)"; then
  say "no Chromium found; installing Debian's chromium (apt-get)"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq >"$WORK/apt.log" 2>&1 && $SUDO apt-get install -y -qq chromium >>"$WORK/apt.log" 2>&1 \
    || { tail -n 20 "$WORK/apt.log" >&2; die "apt-get install chromium failed"; }
  CHROMIUM="$(find_chromium)" || die "chromium installed but not on PATH"
fi

# A throw-away profile, no background traffic (updates, sync, QUIC), and virtual time so the page's scripts
# finish fetching and rendering the document before the DOM is read or the picture taken.
FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking
  --disable-component-update --disable-sync --user-data-dir="$WORK/profile" --window-size=1400,1800
  --virtual-time-budget=10000)
PAGE="$GATEWAY_URL/swagger-ui.html"

say "rendering $PAGE with $CHROMIUM"
"$CHROMIUM" "${FLAGS[@]}" --dump-dom "$PAGE" >"$WORK/dom.html" 2>"$WORK/chromium.log" \
  || { tail -n 20 "$WORK/chromium.log" >&2; die "chromium could not load $PAGE"; }

DOM_KEPT="${TMPDIR:-/tmp}/swagger-ui.dom.html"
python3 - "$WORK/api-docs.json" "$WORK/dom.html" <<'PY' || { cp "$WORK/dom.html" "$DOM_KEPT"; die "the page did not render the API; its DOM is in $DOM_KEPT"; }
import html, json, sys
document = json.load(open(sys.argv[1], encoding="utf-8"))
# Swagger UI breaks long paths with zero-width spaces; compare without them.
dom = html.unescape(open(sys.argv[2], encoding="utf-8").read()).replace("\u200b", "")
title = document["info"]["title"]
missing = [p for p in document["paths"] if f'data-path="{p}"' not in dom and f">{p}<" not in dom]
if title not in dom:
    print(f"  the title '{title}' is not on the page", file=sys.stderr)
if missing:
    print(f"  {len(missing)} of {len(document['paths'])} paths are not on the page: {missing}", file=sys.stderr)
if title not in dom or missing:
    sys.exit(1)
print(f"[swagger-screenshot] the page shows '{title}' and all {len(document['paths'])} paths of the document")
PY

mkdir -p "$(dirname "$OUT")"
rm -f "$OUT"
"$CHROMIUM" "${FLAGS[@]}" --screenshot="$OUT" "$PAGE" >>"$WORK/chromium.log" 2>&1 \
  || { tail -n 20 "$WORK/chromium.log" >&2; die "chromium could not take the screenshot"; }
[[ -s "$OUT" && "$(head -c 8 "$OUT" | od -An -tx1 | tr -d ' \n')" == "89504e470d0a1a0a" ]] \
  || die "no PNG written to $OUT"
say "wrote $OUT ($(stat -c %s "$OUT") bytes)"
