#!/usr/bin/env python3
"""Runs the PromQL behind every Prometheus panel of deploy/grafana/dashboards against a real Prometheus and says,
per query, whether it returned data: the dashboards' queries are checked against what the apps really expose
once scraped, not only against metric names.

    deploy/grafana/check-panels.py [http://127.0.0.1:9090]     # e.g. after deploy/prometheus/run-local.sh

Template variables are replaced by their "All" value (.*), $__rate_interval by 1m, $__range by 1h, $__interval
by 15s. Exit status 1 if any query fails to evaluate; queries that evaluate but return no series (a metric with
nothing to report yet, e.g. rejections on an idle gateway) are listed as "empty", not failed.
"""
import json, pathlib, sys, urllib.parse, urllib.request

PROMETHEUS = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:9090"
DASHBOARDS = pathlib.Path(__file__).resolve().parent / "dashboards"
SUBSTITUTIONS = {"$__rate_interval": "1m", "$__range": "1h", "$__interval": "15s"}


def queries(dashboard):
    variables = {v["name"] for v in dashboard.get("templating", {}).get("list", [])}
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            if target.get("datasource", panel.get("datasource", {})).get("type") != "prometheus" or "expr" not in target:
                continue
            expr = target["expr"]
            for key, value in SUBSTITUTIONS.items():
                expr = expr.replace(key, value)
            for name in sorted(variables, key=len, reverse=True):
                expr = expr.replace("${" + name + "}", ".*").replace("$" + name, ".*")
            yield panel["title"], target["refId"], expr


def evaluate(expr):
    url = PROMETHEUS + "/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
    except urllib.error.HTTPError as e:
        return "error", json.load(e).get("error", str(e))
    return ("data" if body["data"]["result"] else "empty"), len(body["data"]["result"])


failed = 0
for path in sorted(DASHBOARDS.glob("*.json")):
    dashboard = json.loads(path.read_text())
    counts = {"data": 0, "empty": 0, "error": 0}
    print(f"== {dashboard['title']} ({path.name})")
    for title, ref, expr in queries(dashboard):
        status, detail = evaluate(expr)
        counts[status] += 1
        if status != "data":
            print(f"  {status:5}  {title} [{ref}]: {detail if status == 'error' else expr}")
    failed += counts["error"]
    print(f"  {counts['data']} queries returned data, {counts['empty']} empty, {counts['error']} failed")
sys.exit(1 if failed else 0)
