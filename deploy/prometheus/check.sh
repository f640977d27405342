#!/usr/bin/env bash
# Validates this directory: the Prometheus config (with the rule files it loads), the rules, and the rule unit
# tests in tests/. Installs promtool first if needed (promtool.sh). Exits non-zero on the first failure.
# Runs from any working directory.
set -euo pipefail

DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$DIR"
shopt -s nullglob

say() { printf '[check] %s\n' "$*"; }

rules=(rules/*.yml)
tests=(tests/*.yml)
[[ ${#rules[@]} -gt 0 ]] || { say "no rule files in $DIR/rules"; exit 1; }
[[ ${#tests[@]} -gt 0 ]] || { say "no rule tests in $DIR/tests"; exit 1; }

say "promtool check config prometheus.yml"
./promtool.sh check config prometheus.yml
say "promtool check rules ${rules[*]}"
./promtool.sh check rules "${rules[@]}"
say "promtool test rules ${tests[*]}"
./promtool.sh test rules "${tests[@]}"
say "all checks passed"
