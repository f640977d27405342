#!/usr/bin/env bash
# Runs one Gatling simulation against a running gateway (deploy/local/run.sh starts one) and leaves its HTML report
# in load-tests/target/gatling/<simulation>-<timestamp>/index.html. Fails (exit != 0) when an assertion fails.
#
#   load-tests/gatling.sh Regno|Rentals|FeedbackLoop|Stress [-Dname=value ...]
#
# e.g. load-tests/gatling.sh Rentals -Drate=1000 -Dduration=120. Properties and defaults: load-tests/README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SIMULATION="${1:-}"
case "$SIMULATION" in
  Regno|Rentals|FeedbackLoop|Stress) shift ;;
  *) echo "usage: $0 Regno|Rentals|FeedbackLoop|Stress [-Dname=value ...]" >&2; exit 2 ;;
esac

cd "$ROOT"
# The simulations use the gateway's classes (feature order, data): build and install them with load-tests (no
# container images: a load run needs none).
./mvnw -q -B -DskipTests -Djib.skip=true install -pl load-tests -am
exec ./mvnw -B -pl load-tests gatling:test \
  -Dgatling.simulationClass="io.mlgateway.loadtests.gatling.${SIMULATION}Simulation" "$@"
