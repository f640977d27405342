#!/usr/bin/env bash
# The full run of the fault suite (docs/RELIABILITY.md): FaultsUnderLoadTest with issue 17's figures instead of the
# build's shortened ones. PostgreSQL, Redis and Kafka are a private set that the test starts with
# deploy/local/services.sh on free ports (data under load-tests/target/fault-services) and stops and starts under
# load; the shared services on the default ports are not touched. Writes the tables to
# load-tests/target/bench/faults-<time>.md and into docs/RELIABILITY.md (between its "faults:begin/end" markers).
#   load-tests/bench/faults.sh     # env: RATE=1000 FAULT_SECONDS=60 BEFORE=10 AFTER=20 SWAPS=500 WARM_UP=30
#                                   #      SKIP_BUILD=0 WRITE_DOC=1
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RATE=${RATE:-1000} FAULT_SECONDS=${FAULT_SECONDS:-60} BEFORE=${BEFORE:-10} AFTER=${AFTER:-20} SWAPS=${SWAPS:-500}
WARM_UP=${WARM_UP:-30}
if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  # package, not install: the jars are started from gateway/target and retrainer/target.
  (cd "$ROOT" && ./mvnw -q -B -o package -DskipTests -pl gateway/shared,gateway,retrainer -am)
fi
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$ROOT/load-tests/target/bench/faults-$STAMP.log"
TABLES="$ROOT/load-tests/target/bench/faults-$STAMP.md"
mkdir -p "$(dirname "$OUT")"
rm -rf "$ROOT/load-tests/target/faults"
say "fault suite: $RATE predictions/s, ${FAULT_SECONDS} s per outage, ${BEFORE} s before, ${AFTER} s after, $SWAPS swaps (log: $OUT)"
started=$SECONDS
(cd "$ROOT" && ./mvnw -B -o test -pl load-tests -am -Dtest=FaultsUnderLoadTest -Dsurefire.failIfNoSpecifiedTests=false \
  -Dfaults.rate="$RATE" -Dfaults.seconds="$FAULT_SECONDS" -Dfaults.before="$BEFORE" -Dfaults.after="$AFTER" \
  -Dfaults.swaps="$SWAPS" -Dfaults.warmup="$WARM_UP") >"$OUT" 2>&1 && rc=0 || rc=$?
elapsed=$((SECONDS - started))
grep -E 'Tests run:|FAILURE|expected|but was' "$OUT" | sort -u >&2 || true
{
  echo "Run $STAMP on $(nproc) cores ($(uname -m)), $(java -version 2>&1 | head -1); load average at the end:" \
    "$(cut -d' ' -f1-3 /proc/loadavg); the whole run took ${elapsed} s; test result: $([[ $rc == 0 ]] && echo passed || echo FAILED)."
  echo
  for f in "$ROOT"/load-tests/target/faults/[0-9]-*.md; do
    sed 's/^### /#### /' "$f"
  done
} >"$TABLES"
if [[ "${WRITE_DOC:-1}" == 1 ]]; then
  python3 - "$ROOT/docs/RELIABILITY.md" "$TABLES" <<'PY'
import sys
doc, tables = sys.argv[1], open(sys.argv[2]).read()
text = open(doc).read()
begin, end = "<!-- faults:begin -->", "<!-- faults:end -->"
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(doc, "w").write(head + begin + "\n" + tables + end + tail)
PY
  say "tables written into docs/RELIABILITY.md"
fi
say "tables: $TABLES; full output: $OUT"
exit $rc
