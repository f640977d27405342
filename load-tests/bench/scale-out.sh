#!/usr/bin/env bash
# The scale-out run of docs/SCALING.md: two gateways and two retrainers behind HAProxy (deploy/compose/haproxy.cfg),
# driven by the Gatling feedback simulation; one gateway and one retrainer stopped half-way through the load.
# ScaleOutTest with a longer load than the build's (24 s). Needs: deploy/local/services.sh, haproxy (apt).
#   load-tests/bench/scale-out.sh            # env: SCALE_OUT_SECONDS=120 SKIP_BUILD=0
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v haproxy >/dev/null || { say "haproxy is missing (apt-get install haproxy)"; exit 1; }
"$ROOT/deploy/local/services.sh" up >/dev/null
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  (cd "$ROOT" && ./mvnw -q -B -DskipTests install -pl gateway,retrainer -am)
fi
OUT="$ROOT/load-tests/target/bench/scale-out-$(date -u +%Y%m%dT%H%M%SZ).log"
mkdir -p "$(dirname "$OUT")"
(cd "$ROOT" && ./mvnw -B test -pl load-tests -Dtest=ScaleOutTest -Dsurefire.failIfNoSpecifiedTests=false \
  -DscaleOut.seconds="${SCALE_OUT_SECONDS:-120}") >"$OUT" 2>&1 || { tail -40 "$OUT"; say "failed: $OUT"; exit 1; }
grep -E '^scale-out:|Tests run:' "$OUT" | sort -u
# The run that lost an instance is the newest feedback report.
python3 "$BENCH/gatling-table.py" "$(ls -td "$ROOT"/load-tests/target/gatling/feedbackloopsimulation-* | head -1)"
say "full output: $OUT; Gatling reports: load-tests/target/gatling/feedbackloopsimulation-*"
