#!/usr/bin/env bash
# CPU seconds used by each process group while a command runs: who eats the two cores during a load run?
#   cpu-split.sh <command...>   e.g. cpu-split.sh wrk -t2 -c64 -d15s ... ; prints gateway / postgres / wrk / other
set -euo pipefail
ticks() { # pattern -> total utime+stime ticks of matching processes
  local total=0
  for pid in $(pgrep -f "$1" || true); do
    [[ -r /proc/$pid/stat ]] || continue
    read -r -a f < <(sed 's/^.*) //' /proc/$pid/stat)
    total=$((total + f[11] + f[12]))
  done
  echo $total
}
all() { awk '/^cpu /{print $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
HZ=$(getconf CLK_TCK)
g0=$(ticks 'gateway.jar'); p0=$(ticks '^postgres'); b0=$(ticks 'BaselineServer'); k0=$(ticks 'kafka'); r0=$(ticks 'redis-server'); t0=$(busy); a0=$(all)
"$@" & CMD=$!
sleep 0.2; w0=$(ticks '^wrk|^hey')
wait $CMD || true
g1=$(ticks 'gateway.jar'); p1=$(ticks '^postgres'); b1=$(ticks 'BaselineServer'); k1=$(ticks 'kafka'); r1=$(ticks 'redis-server'); t1=$(busy); a1=$(all)
awk -v hz="$HZ" -v g=$((g1-g0)) -v p=$((p1-p0)) -v b=$((b1-b0)) -v k=$((k1-k0)) -v r=$((r1-r0)) -v t=$((t1-t0)) -v a=$((a1-a0)) 'BEGIN {
  printf "machine busy %.0f%% of %d cores-worth; cpu-seconds: gateway %.1f  postgres %.1f  baseline %.1f  kafka %.1f  redis %.1f  load generator+rest %.1f\n",
    100*t/a, 2, g/hz, p/hz, b/hz, k/hz, r/hz, (t-g-p-b-k-r)/hz }'
