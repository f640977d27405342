#!/usr/bin/env bash
# The inference log's write ceiling on this machine (rows/s), one table (migration V4) against day partitions (V5),
# alternating per round in one run, with the gateway's own batch INSERT (WriteCeiling). Only PostgreSQL and the
# writers run: no gateway, so the figure is the database's, not the gateway's CPU.
#   load-tests/bench/inference-log-ceiling.sh     # env: SECONDS_PER_CELL=20 WRITERS=4 BATCH=1000 ROUNDS=3 SKIP_BUILD
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
fresh_services
build_once
load_tests_java io.mlgateway.loadtests.inferencelog.WriteCeiling "127.0.0.1:${LOCAL_PG_PORT:-5432}/$BENCH_DB" \
  inference inference "${SECONDS_PER_CELL:-20}" "${WRITERS:-4}" "${BATCH:-1000}" "${ROUNDS:-3}"
