#!/usr/bin/env bash
# Measures the retrain cycle on the locally running product (deploy/local/run.sh first): for N fresh users,
# 50 predictions (one batch call) and their 50 actuals from hour.csv (2012 rows), then waits until the
# retrainer has retrained them all and prints per-step p50/p99 from the retrainer's JSON log events.
# Usage: deploy/local/measure-retrain.sh [users=40]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
USERS="${1:-40}"
KEY="${API_KEY:-local-dev-key}"   # the plain key (the gateway is configured with its hash)
API="http://127.0.0.1:${SERVER_PORT:-8080}"
LOG="${LOCAL_SERVICES_DIR:-$ROOT/.local-services}/apps/retrainer.log"
RUN_ID="m$(date +%s)"

python3 - "$ROOT" "$API" "$KEY" "$USERS" "$RUN_ID" "$LOG" <<'PY'
import csv, json, sys, time, urllib.request, statistics

root, api, key, users, run_id, log = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
names = ["season", "yr", "mnth", "hr", "holiday", "weekday", "workingday", "weathersit", "temp", "atemp", "hum", "windspeed"]
rows = [r for r in csv.DictReader(open(f"{root}/gateway/shared/src/main/resources/bike-sharing/hour.csv")) if r["yr"] == "1"]

def post(path, body):
    req = urllib.request.Request(api + path, json.dumps(body).encode(), {"x-api-key": key, "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())

started = time.time()
for u in range(users):
    user = f"{run_id}-u{u}"
    chunk = rows[u * 50:(u + 1) * 50]
    results = post(f"/v1/rentals/{user}/predict/batch", {"instances": [{"features": {n: float(r[n]) for n in names}} for r in chunk]})["results"]
    post("/v1/rentals/actuals", {"actuals": [{"request_id": p["request_id"], "actual_value": float(r["cnt"])} for p, r in zip(results, chunk)]})

def events():
    out = []
    for line in open(log, encoding="utf-8"):
        if run_id in line and '"event"' in line:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out

deadline = time.time() + 300
while time.time() < deadline:
    notified = {e["user_id"] for e in events() if e.get("event") == "retrain.notify"}
    if len(notified) >= users:
        break
    time.sleep(1)
elapsed = time.time() - started
ev = events()
def stat(event, field):
    vals = sorted(e[field] for e in ev if e.get("event") == event and field in e)
    if not vals:
        return "n/a"
    p = lambda q: vals[min(len(vals) - 1, int(round(q * (len(vals) - 1))))]
    return f"n={len(vals)} p50={p(0.5)} p99={p(0.99)} max={vals[-1]}"
ok = {e["user_id"] for e in ev if e.get("event") == "retrain.notify" and e.get("status") == "success"}
failed = [e for e in ev if e.get("event") == "retrain.failed"]
print(f"users={users} retrained={len(ok)} failed={len(failed)} wall={elapsed:.1f}s")
for e in failed:
    print("  failed:", e["user_id"], e.get("reason"))
print("read  read_ms            ", stat("retrain.read", "read_ms"), "(customer ~5 ms)")
print("fit   processing_time_ms ", stat("retrain.fit", "processing_time_ms"), "(customer ~200 ms)")
print("fit   samples_used       ", stat("retrain.fit", "samples_used"))
print("store store_ms           ", stat("retrain.store", "store_ms"))
print("evict evict_ms           ", stat("retrain.cache_evict", "evict_ms"))
print("notify notify_ms         ", stat("retrain.notify", "notify_ms"))
PY
