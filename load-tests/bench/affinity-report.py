#!/usr/bin/env python3
"""The tables of load-tests/bench/affinity.sh from its output directory (metrics, the balancer's log, the probe's
request log, times.txt): python3 load-tests/bench/affinity-report.py load-tests/target/bench/affinity-<time>"""
import collections, json, os, re, sys
out = sys.argv[1]
users, gateways, stopped, exited, restarting, ready = (int(x) for x in open(os.path.join(out, "times.txt")).read().split())

def metric(path, name, **labels):
    total = 0.0
    if not os.path.exists(path):
        return None
    for line in open(path):
        m = re.match(r'(\w+)(\{[^}]*\})? ([0-9.eE+-]+)$', line.strip())
        if m and m.group(1) == name and all(f'{k}="{v}"' in (m.group(2) or "") for k, v in labels.items()):
            total += float(m.group(3))
    return total
def gw(phase, i):
    return os.path.join(out, f"metrics-{phase}-gateway-{i}.txt")

if os.path.exists(os.path.join(out, "warm-up.txt")):
    print("\n" + open(os.path.join(out, "warm-up.txt")).read().strip())
print(open(os.path.join(out, "sweep.txt")).read().strip())
print(f"\nAfter the sweep of {users:,} users\n")
print("| gateway | users held | share | model memory (tier) | per user |")
print("| --- | --- | --- | --- | --- |")
held = total_bytes = 0
# Users the warm-up (w-…) left in each gateway, from the balancer's log: not the users of the sweep.
warm = {}
for line in open(os.path.join(out, "haproxy.log")):
    m = re.search(r' gateways/(gateway-\d+) .*\{w-\d+\}', line)
    if m:
        warm[m.group(1)] = warm.get(m.group(1), 0) + 1
for i in range(1, gateways + 1):
    raw = metric(gw("sweep", i), "gateway_modelstore_cache_entries") or 0
    b = metric(gw("sweep", i), "gateway_modelstore_memory_bytes", part="users") or 0
    n = raw - warm.get(f"gateway-{i}", 0)
    b -= warm.get(f"gateway-{i}", 0) * b / max(raw, 1)
    held += n; total_bytes += b
    print(f"| gateway-{i} | {n:,.0f} | {100 * n / users:.1f}% | {b / 2**20:,.0f} MB | {b / max(n, 1):,.0f} B |")
per_user = total_bytes / held
print(f"| fleet | {held:,.0f} | {100 * held / users:.1f}% | {total_bytes / 2**20:,.0f} MB | {per_user:,.0f} B |")
print(f"\nFleet model memory / one copy of every user: {total_bytes / (users * per_user):.3f}"
      f" (users held {held:,.0f} of {users:,}; entries beyond one per user: {held - users:,.0f})")

# Where the balancer sent each user: its log captures the routing key as {a-123}. A user's first request is the
# sweep's, with every gateway up: its home. Later requests elsewhere: a user of gateway-2 moved while it was down,
# or (which must not happen) another gateway's user moved.
home = {}
moved = set()
strays = 0
route = re.compile(r' gateways/(gateway-\d+) .*\{(a-\d+)\}')
for line in open(os.path.join(out, "haproxy.log")):
    m = route.search(line)
    if not m:
        continue
    server, user = m.group(1), m.group(2)
    if user not in home:
        home[user] = server
    elif server != home[user]:
        if home[user] == "gateway-2":
            moved.add(user)
        else:
            strays += 1

requests = []
for line in open(os.path.join(out, "requests.txt")):
    due, status, micros, user = line.split()
    requests.append((int(due), int(status), int(micros), "a-" + user))
def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] / 1000 if values else float("nan")
failed = [r for r in requests if not 200 <= r[1] < 300]
steady = [r[2] for r in requests if r[0] < stopped]
print(f"\nLoad: {len(requests):,} requests logged, failed {len(failed)} ({dict(collections.Counter(r[1] for r in failed))})")
print(f"steady state (before the stop): {len(steady):,} requests, p50 {p(steady, .5):.2f} ms, p99 {p(steady, .99):.2f} ms")

def misses(phase, i):
    return metric(gw(phase, i), "gateway_modelstore_lookups_total", tier="memory", result="miss") or 0
loads = {i: misses("end", i) - misses("stop", i) for i in range(1, gateways + 1) if i != 2}
active = {r[3] for r in requests if r[0] >= stopped}
print(f"\ngateway-2 stopped (exit {(exited - stopped) / 1000:.1f} s after SIGTERM), started again"
      f" {(restarting - stopped) / 1000:.1f} s after it: {len(moved):,} of its users were served elsewhere meanwhile"
      f" ({100 * len(moved) / max(len(active), 1):.1f}% of the {len(active):,} users active from the stop on);"
      f" requests of the other gateways' users sent elsewhere: {strays}")
print(f"loads on the other gateways from the stop to the end: {sum(loads.values()):,.0f}"
      f" ({', '.join(f'gateway-{i} {n:,.0f}' for i, n in loads.items())}) for {len(moved):,} moved users")

try:
    warm = json.load(open(os.path.join(out, "readiness-restarted.json")))["components"]["rentals"]["details"]["warmUp"]
except Exception:
    warm = {}
print(f"\ngateway-2 restarted: ready {(ready - restarting) / 1000:.1f} s after its start; warm-up {warm}")
steady99 = p(steady, .99)
print(f"\np99 per second after gateway-2 reported ready (steady state {steady99:.2f} ms; 2x = {2 * steady99:.2f} ms)\n")
print("| second after ready | requests | to gateway-2's users | p99 ms | failed |")
print("| --- | --- | --- | --- | --- |")
back = None
for s in range(0, 30):
    sec = [r for r in requests if ready + 1000 * s <= r[0] < ready + 1000 * (s + 1)]
    if not sec:
        break
    lat = p([r[2] for r in sec], .99)
    if back is None and lat <= 2 * steady99:
        back = s
    print(f"| {s} | {len(sec)} | {sum(1 for r in sec if home.get(r[3]) == 'gateway-2')} | {lat:.2f} |"
          f" {sum(1 for r in sec if not 200 <= r[1] < 300)} |")
print(f"\np99 within 2x the steady state from second {back} after ready")
