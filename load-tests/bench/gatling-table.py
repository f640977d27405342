#!/usr/bin/env python3
"""Prints a Gatling HTML report's statistics table as Markdown: one row per request name.

    load-tests/bench/gatling-table.py load-tests/target/gatling/<simulation>-<timestamp>

Columns: requests, failed (KO), p50 / p95 / p99 / max ms, as Gatling computed them for the whole run of that
request name (warm-up requests have names of their own, "warm-up: ...").
"""
import html
import re
import sys
from pathlib import Path

ROW = re.compile(r'<tr id="(?P<id>[^"]+)"[^>]*>(?P<body>.*?)</tr>', re.S)
NAME = re.compile(r'class="ellipsed-name">(?P<name>[^<]*)</span>')
CELL = re.compile(r'<td class="value [a-z]+ col-(?P<col>\d+)">(?P<value>[^<]*)</td>')


def rows(report: Path):
    text = (report / "index.html").read_text(encoding="utf-8")
    start = text.index('id="container_statistics_body"') if 'id="container_statistics_body"' in text else 0
    for match in ROW.finditer(text, start):
        name = NAME.search(match.group("body"))
        cells = {int(c.group("col")): c.group("value") for c in CELL.finditer(match.group("body"))}
        if name and 2 in cells:
            yield html.unescape(name.group("name")), cells


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    report = Path(sys.argv[1])
    print("| request | requests | failed | p50 ms | p95 ms | p99 ms | max ms |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    seen = set()
    for name, c in rows(report):
        if name in seen:
            continue
        seen.add(name)
        print(f"| {name} | {int(c[2]):,} | {c.get(4, '-')} | {c.get(8, '-')} | {c.get(10, '-')} | {c.get(11, '-')}"
              f" | {c.get(12, '-')} |")


if __name__ == "__main__":
    main()
