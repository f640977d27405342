#!/usr/bin/env bash
# Runs the JMH scoring/JSON/key-check micro-benchmarks of load-tests (RegnoScoringBenchmark,
# RentalsScoringBenchmark, JsonParsingBenchmark, ApiKeysBenchmark): in-process, no HTTP, no servers or ports.
# Scores are µs per operation (AverageTime; ApiKeysBenchmark in ns);
# the batched variants (…Batch1/8/64) are normalised to µs per row.
#
#   load-tests/bench/run-jmh.sh                       # everything (roughly 5 min on 2 cores)
#   load-tests/bench/run-jmh.sh Rentals               # first argument: benchmark regex; later ones go to JMH
#   SKIP_BUILD=1 JMH_OPTS="-f 1 -wi 1 -i 1 -w 1s -r 1s" load-tests/bench/run-jmh.sh Regno   # smoke run
#
# Environment (defaults): JMH_OPTS="-f 1 -wi 3 -w 2s -i 5 -r 2s" (one fork, few iterations: sized for a shared
#   2-core machine; replaces the defaults entirely) JMH_HEAP=1g (forked JVM's -Xmx) SKIP_BUILD=0
# Results are printed and written to load-tests/target/jmh/results.json (JMH JSON) and results.txt (console log).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="$ROOT/load-tests/target/jmh"
JMH_OPTS=${JMH_OPTS:-"-f 1 -wi 3 -w 2s -i 5 -r 2s"}
JMH_HEAP=${JMH_HEAP:-1g}
REGEX=${1:-.}
[[ $# -gt 0 ]] && shift

say() { printf '[jmh] %s\n' "$*" >&2; }

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
  say "building (./mvnw -q -B -DskipTests package -pl load-tests -am)"
  (cd "$ROOT" && ./mvnw -q -B -DskipTests package -pl load-tests -am)
fi
CP="$ROOT/load-tests/target/classpath.txt"  # written by the package phase
LIST="$ROOT/load-tests/target/classes/META-INF/BenchmarkList"  # written by the JMH annotation processor
[[ -f "$CP" && -f "$LIST" ]] || { say "no $CP or $LIST: build first (unset SKIP_BUILD)"; exit 1; }
mkdir -p "$OUT"

say "benchmarks matching '$REGEX' with $JMH_OPTS -jvmArgs -Xmx$JMH_HEAP $*"
cd "$ROOT"  # JsonParsingBenchmark reads the bodies of load-tests/bench/ relative to the repository's root
# shellcheck disable=SC2086  # JMH_OPTS is a list of options on purpose
java -cp "$ROOT/load-tests/target/classes:$(cat "$CP")" org.openjdk.jmh.Main "$REGEX" \
  $JMH_OPTS -jvmArgs "-Xmx$JMH_HEAP" -rf json -rff "$OUT/results.json" "$@" | tee "$OUT/results.txt"
say "results: $OUT/results.json (JSON), $OUT/results.txt (console)"
