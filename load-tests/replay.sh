#!/usr/bin/env bash
# Replays 2012 hour by hour for one user and prints rolling MAE beside the frozen base model; writes a plot.
#   load-tests/replay.sh offline [--hours N] [--only text]   the retrainer's policies in-process (seconds per policy)
#   load-tests/replay.sh live [--hours N] [--rate R] [--url U] [--key K]
#                                                          through a running gateway + retrainer (deploy/local/run.sh)
# Plots: load-tests/target/replay/{offline,live}.html. Figures and how to read them: docs/RETRAIN.md.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode="${1:-}"; shift || true
case "$mode" in
  offline) main=io.mlgateway.loadtests.replay.OfflineReplay ;;
  live) main=io.mlgateway.loadtests.replay.LiveReplay ;;
  *) sed -n '2,6p' "$0" >&2; exit 2 ;;
esac
if [[ ! -f "$ROOT/load-tests/target/classpath.txt" || ! -d "$ROOT/load-tests/target/classes" ]]; then
  (cd "$ROOT" && ./mvnw -q -B -DskipTests install)
fi
cd "$ROOT"
exec java -Xmx1g -cp "load-tests/target/classes:$(cat load-tests/target/classpath.txt)" "$main" "$@"
