#!/usr/bin/env bash
# What loading one user's model costs on a warm gateway: from asking Redis or PostgreSQL to the model ready to score
# (gateway_modelstore_load_latency_seconds, per source). A memory tier of MEMORY (default 3MB, ~500 users) keeps
# users going in and out of memory; after a JIT warm-up over many users, users never seen are requested one at a
# time (read from PostgreSQL, then written to Redis), pushed out of memory by others, and requested again (read from
# Redis). Prints mean and percentiles per source for those sequential loads.
#
#   load-tests/bench/load-latency.sh            # needs: python3, curl, wrk
#
# Environment (defaults): USERS=500 MEMORY=3MB GATEWAY_HEAP=512m SKIP_BUILD=0
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
USERS=${USERS:-500}
MEMORY=${MEMORY:-3MB}
OUT="$ROOT/load-tests/target/bench/load-latency-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
trap 'kill "${GW_PID:-}" 2>/dev/null || true' EXIT

fresh_services
build_once
GATEWAY_ENV="GATEWAY_MODEL_CACHE_MAX_BYTES=$MEMORY GATEWAY_MODEL_CACHE_WARM_UP_USERS=0" \
  start_gateway "$OUT/gateway.log" "${GATEWAY_HEAP:-512m}"
total=$(( 5000 + 3 * USERS ))
seed_users "$total" l- >"$OUT/seed.txt"

say "JIT warm-up: 30 s over users l-1..l-5000 (loads from PostgreSQL and Redis all along)"
BODY_FILE="$BENCH/rentals.json" API_KEY=$API_KEY USERS=5000 PATH_TEMPLATE='/v1/rentals/l-{user}/predict' \
  wrk -t2 -c16 -d30s -s "$BENCH/post.lua" "http://127.0.0.1:$GW_PORT/v1/rentals/l-1/predict" >/dev/null

metrics() { curl -fsS "http://127.0.0.1:$GW_MGMT/actuator/prometheus" | grep '^gateway_modelstore_load_latency_seconds'; }
request() { # first last: one request per user, one after the other
  for n in $(seq "$1" "$2"); do
    curl -fsS -o /dev/null -X POST "http://127.0.0.1:$GW_PORT/v1/rentals/l-$n/predict" -H "x-api-key: $API_KEY" \
      -H 'content-type: application/json' --data @"$BENCH/rentals.json"
  done
}
first=5001; last=$(( 5000 + USERS ))
metrics >"$OUT/m0.txt"; request "$first" "$last"; metrics >"$OUT/m1.txt"           # never seen: PostgreSQL
request $(( last + 1 )) $(( last + 2 * USERS ))                                     # push them out of memory
metrics >"$OUT/m2.txt"; request "$first" "$last"; metrics >"$OUT/m3.txt"           # again: Redis

python3 - "$OUT" <<'PY'
import re, sys, os
out = sys.argv[1]
def read(name):
    values = {}
    for line in open(os.path.join(out, name)):
        m = re.match(r'(\w+)\{([^}]*)\} ([0-9.eE+-]+)', line)
        if m:
            labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
            values[(m.group(1), labels.get("source"), labels.get("le"))] = float(m.group(3))
    return values
def phase(before, after, source):
    b, a = read(before), read(after)
    d = {k: a[k] - b.get(k, 0) for k in a if k[1] == source}
    n = d.get(("gateway_modelstore_load_latency_seconds_count", source, None), 0)
    s = d.get(("gateway_modelstore_load_latency_seconds_sum", source, None), 0)
    buckets = sorted((float(k[2]), v) for k, v in d.items() if k[0].endswith("_bucket") and k[2] != "+Inf")
    def pct(p):
        for le, c in buckets:
            if c >= p * n:
                return le * 1000
        return float("nan")
    return n, (1000 * s / n if n else float("nan")), pct(0.5), pct(0.99)
print("\n| source | loads | mean ms | p50 ms (bucket bound) | p99 ms (bucket bound) |")
print("| --- | --- | --- | --- | --- |")
for source, (b, a) in (("postgres", ("m0.txt", "m1.txt")), ("redis", ("m2.txt", "m3.txt"))):
    n, mean, p50, p99 = phase(b, a, source)
    print(f"| {source} | {n:.0f} | {mean:.3f} | {p50:.3f} | {p99:.3f} |")
PY
say "raw output in $OUT"
