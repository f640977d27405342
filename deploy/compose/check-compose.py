#!/usr/bin/env python3
"""Assertions on the stack as Compose renders it (run by check.sh; needs PyYAML).

    check-compose.py RENDERED.yml SECRETS.json

RENDERED.yml is `docker-compose config` of docker-compose.yml with an env file whose every secret holds a unique
sentinel value; SECRETS.json maps each secret variable to its sentinel. The other files of this directory
(docker-compose.yml as written, haproxy.cfg, prometheus.yml, loki.yml) and deploy/grafana are read from disk.
Prints one line per check; exits 1 if any failed.
"""
import base64
import json
import os
import re
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

APPS = ["gateway-1", "gateway-2", "retrainer"]
GATEWAYS = ["gateway-1", "gateway-2"]
INFRA = ["postgres", "redis", "kafka", "loki", "prometheus", "grafana", "lb"]
EXPECTED = set(APPS + INFRA + ["gatling"])
# Environment keys that carry a secret wherever they appear (the apps' and the images' own names).
SECRET_KEY = re.compile(r"(PASSWORD|SECRET|TOKEN|API_KEYS?|ADMIN_KEYS?|_KEY)$")

failures = []


def check(cond, what):
    print(("  ok    " if cond else "  FAIL  ") + what)
    if not cond:
        failures.append(what)
    return cond


def seconds(duration):
    """Compose duration ('45s', '1m30s', '2m', '500ms', or a number of seconds) in seconds."""
    if isinstance(duration, (int, float)):
        return float(duration)
    total, rest = 0.0, str(duration).strip()
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", rest):
        total += float(number) * units[unit]
    if not re.fullmatch(r"((\d+(\.\d+)?)(ms|us|h|m|s))+", rest):
        raise ValueError("not a duration: %r" % duration)
    return total


def env_of(service):
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, None) for e in env)
    return env


def depends(service):
    dep = service.get("depends_on") or {}
    if isinstance(dep, list):
        dep = {name: {"condition": "service_started"} for name in dep}
    return dep


def volume_targets(service):
    """{container path: (source, read_only)} from short ('src:dst[:mode]') or long volume syntax."""
    out = {}
    for v in service.get("volumes") or []:
        if isinstance(v, str):
            parts = v.split(":")
            src, dst = parts[0], parts[1]
            mode = parts[2] if len(parts) > 2 else "rw"
            out[dst] = (src, "ro" in mode.split(","))
        else:
            out[v["target"]] = (v.get("source"), bool(v.get("read_only")))
    return out


def main():
    rendered_path, secrets_path = sys.argv[1:3]
    with open(rendered_path) as f:
        cfg = yaml.safe_load(f)
    with open(secrets_path) as f:
        sentinels = json.load(f)
    with open(os.path.join(HERE, "docker-compose.yml")) as f:
        raw = f.read()
    services = cfg["services"]

    print("services")
    check(set(services) == EXPECTED, "services are exactly %s (got %s)" % (sorted(EXPECTED), sorted(services)))
    check("version" not in yaml.safe_load(raw), "docker-compose.yml has no top-level version: (Compose Specification)")

    print("apps: read-only root, /tmp tmpfs (exec), graceful stop, memory limit")
    for name in APPS:
        s = services[name]
        check(s.get("read_only") is True, "%s: read_only: true" % name)
        tmpfs = s.get("tmpfs") or []
        tmpfs = [tmpfs] if isinstance(tmpfs, str) else tmpfs
        tmp = [t for t in tmpfs if t.split(":", 1)[0] == "/tmp"]
        opts = tmp[0].split(":", 1)[1].split(",") if tmp and ":" in tmp[0] else []
        check(bool(tmp), "%s: tmpfs on /tmp" % name)
        # Docker mounts a bare --tmpfs noexec: the JVM could not load the native libraries it unpacks there.
        check("exec" in opts and "noexec" not in opts, "%s: /tmp tmpfs mounted exec (native libraries)" % name)
        check(seconds(s.get("stop_grace_period", "10s")) >= 45, "%s: stop_grace_period >= 45s (got %s)"
              % (name, s.get("stop_grace_period")))
        check(bool(s.get("mem_limit")), "%s: mem_limit set (the image sizes the heap from it)" % name)
        check(not s.get("ports"), "%s: publishes no host port (API through lb only)" % name)
        env = env_of(s)
        check("JAVA_TOOL_OPTIONS" in env and env["JAVA_TOOL_OPTIONS"] in (None, ""),
              "%s: JAVA_TOOL_OPTIONS passed through from the env file, unset by default (rendered %r)"
              % (name, env.get("JAVA_TOOL_OPTIONS")))
        for key, want in [("SPRING_R2DBC_URL", "r2dbc:postgresql://postgres:5432/"),
                          ("SPRING_DATA_REDIS_URL", "redis://redis:6379"),
                          ("SPRING_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092"),
                          ("LOKI_URL", "http://loki:3100/loki/api/v1/push")]:
            check(str(env.get(key, "")).startswith(want), "%s: %s=%s..." % (name, key, want))
        check(env.get("SPRING_R2DBC_USERNAME") == env_of(services["postgres"]).get("POSTGRES_USER"),
              "%s: SPRING_R2DBC_USERNAME is postgres' POSTGRES_USER" % name)
    for name in GATEWAYS:
        check(services[name].get("image", "").startswith("mlgateway/gateway:"), "%s: image mlgateway/gateway" % name)
    check(services["retrainer"].get("image", "").startswith("mlgateway/retrainer:"), "retrainer: image mlgateway/retrainer")

    print("secrets: only from the env file")
    required = sorted(set(re.findall(r"\$\{([A-Z0-9_]+):\?", raw)))
    check(set(required) == set(sentinels), "required variables ${NAME:?} in docker-compose.yml are the secrets %s (got %s)"
          % (sorted(sentinels), required))
    for name, s in services.items():
        for key, value in env_of(s).items():
            if SECRET_KEY.search(key):
                check(value in sentinels.values(), "%s: %s comes from the env file" % (name, key))
    used = {v for s in services.values() for v in env_of(s).values()}
    for var, sentinel in sentinels.items():
        check(sentinel in used, "secret %s reaches a container" % var)
    for fname in ("docker-compose.yml", "haproxy.cfg", "prometheus.yml", "loki.yml"):
        with open(os.path.join(HERE, fname)) as f:
            text = f.read()
        hits = [m for m in re.findall(r"(?im)^\s*[\w.-]*(?:password|secret|token|api[_-]?keys?)\s*[:=]\s*(\S.*)$", text)
                if not m.strip().startswith("${") and not m.strip().startswith("#")]
        check(not hits, "%s: no literal secret value (%s)" % (fname, hits or "none"))
    pg = env_of(services["postgres"])
    check(pg.get("POSTGRES_PASSWORD") == env_of(services["gateway-1"]).get("SPRING_R2DBC_PASSWORD"),
          "postgres' POSTGRES_PASSWORD is the apps' SPRING_R2DBC_PASSWORD")

    print("healthchecks and start order")
    for name in INFRA:
        hc = services[name].get("healthcheck") or {}
        test = hc.get("test")
        check(bool(test) and not hc.get("disable") and test != ["NONE"], "%s: has a healthcheck (%s)" % (name, test))
    for name, s in services.items():
        for dep, spec in depends(s).items():
            check(dep in services, "%s depends on %s, a service of this file" % (name, dep))
            if spec.get("condition") == "service_healthy":
                check(bool((services.get(dep) or {}).get("healthcheck")),
                      "%s waits for %s healthy, and %s has a healthcheck" % (name, dep, dep))
    lb_deps = depends(services["lb"])
    check(set(GATEWAYS) <= set(lb_deps), "lb depends on gateway-1 and gateway-2")
    for name in GATEWAYS:
        deps = depends(services[name])
        for infra in ("postgres", "redis", "kafka"):
            check(deps.get(infra, {}).get("condition") == "service_healthy", "%s waits for %s healthy" % (name, infra))
    rdeps = depends(services["retrainer"])
    check(rdeps.get("lb", {}).get("condition") == "service_healthy",
          "retrainer waits for lb healthy (a gateway ready = schema migrated)")
    for name in APPS:
        check(not services[name].get("healthcheck"), "%s: no container healthcheck (no shell or curl in the image)" % name)

    print("balancer (haproxy.cfg)")
    with open(os.path.join(HERE, "haproxy.cfg")) as f:
        hap = f.read()
    def backend(name):
        """The server lines of one backend section: (name, host, port, id, rest of the line)."""
        body = re.search(r"(?ms)^backend %s\n(.*?)(?=^\S|\Z)" % re.escape(name), hap)
        return re.findall(r"(?m)^\s*server\s+(\S+)\s+([^:\s]+):(\d+)\s*(?:.*?\bid (\d+))?(.*)$",
                          body.group(1)) if body else []
    servers = backend("gateways")
    check(sorted(h for _, h, _, _, _ in servers) == GATEWAYS and all(p == "8080" for _, _, p, _, _ in servers),
          "backend gateways' servers are gateway-1:8080 and gateway-2:8080 (got %s)" % servers)
    # Routing by user: a restarted gateway warms the users the ring sends it, so it must know its name there.
    for name, host, _, _, _ in servers:
        check(env_of(services[host]).get("GATEWAY_MODEL_CACHE_WARM_UP_INSTANCE") == name,
              "%s: GATEWAY_MODEL_CACHE_WARM_UP_INSTANCE is its server name in haproxy.cfg (%s)" % (host, name))
    ids = [i for _, _, _, i, _ in servers]
    check(all(ids) and len(set(ids)) == len(ids),
          "every server has an id of its own (its place in the consistent-hash ring)")
    grpc = backend("gateways-grpc")
    check([(n, h, i) for n, h, _, i, _ in grpc] == [(n, h, i) for n, h, _, i, _ in servers],
          "backend gateways-grpc has backend gateways' servers and ids: the same ring, so a user's gRPC calls reach"
          " the gateway holding its model (got %s)" % grpc)
    check(all(p == "8001" and re.search(r"\bproto h2\b", rest) for _, _, p, _, rest in grpc) and grpc,
          "backend gateways-grpc reaches each gateway's gRPC port 8001 over HTTP/2 (proto h2)")
    check(re.search(r"(?m)^\s*bind :8001 proto h2\s*$", hap) is not None,
          "haproxy.cfg: gRPC (HTTP/2 cleartext) taken on :8001")
    for needle, what in [(r"check port 8081\b", "health checks on the management port 8081"),
                         (r"uri /actuator/health/readiness\b", "checks GET /actuator/health/readiness"),
                         (r"(?m)^\s*balance hash var\(txn\.user\)\s*$", "balance by user"),
                         (r"(?m)^\s*hash-type consistent\s*$", "consistent hashing"),
                         (r"(?m)^\s*http-request set-var\(txn\.user\) req\.hdr\(x-user-id\)\s*$",
                          "the user from the x-user-id header"),
                         (r"(?m)^\s*http-request set-var\(txn\.user\) path,field\(4,/\) if \{ path_reg \^/v1/rentals/\[\^/\]\+/ \}\s*$",
                          "the user from the path"),
                         (r"(?m)^\s*retry-on conn-failure empty-response response-timeout\s*$", "retry-on conn-failure empty-response response-timeout"),
                         (r"(?m)^\s*option redispatch\b", "option redispatch"),
                         (r"(?m)^\s*retries 2\s*$", "retries 2"),
                         (r"(?m)^\s*bind :8080\s*$", "API frontend on :8080"),
                         (r"(?m)^\s*bind :8404\s*$", "stats on :8404"),
                         (r"(?m)^\s*bind :8405\s*$", "health (monitor-uri) on :8405")]:
        check(re.search(needle, hap) is not None, "haproxy.cfg: " + what)
    # A stopping gateway answers readiness 503 and keeps serving for its drain: haproxy must have marked it down
    # by then (the first failed check up to `inter` after the drain starts, the others `fastinter` apart).
    timing = re.search(r"(?m)^\s*default-server\b.*\binter (\S+).*\bfastinter (\S+).*\bfall (\d+)", hap)
    check(timing is not None, "haproxy.cfg: default-server sets inter, fastinter and fall")
    if timing:
        take_out = seconds(timing.group(1)) + (int(timing.group(3)) - 1) * seconds(timing.group(2))
        for name in GATEWAYS:
            drain = env_of(services[name]).get("GATEWAY_HTTP_SHUTDOWN_DRAIN")
            check(drain is not None and seconds(str(drain)) > take_out,
                  "%s: GATEWAY_HTTP_SHUTDOWN_DRAIN (%s) longer than haproxy takes to mark it down (%ss)"
                  % (name, drain, take_out))
            check(drain is not None and seconds(services[name].get("stop_grace_period", "10s"))
                  >= seconds(str(drain)) + 30,
                  "%s: stop_grace_period covers the drain and the 30 s graceful shutdown" % name)
    lb = services["lb"]
    check(volume_targets(lb).get("/usr/local/etc/haproxy/haproxy.cfg", ("", False))[1],
          "lb mounts haproxy.cfg read-only where the image reads it")
    ports = [p if isinstance(p, dict) else {"target": int(str(p).split(":")[-1].split("/")[0]), "raw": p}
             for p in lb.get("ports") or []]
    check(any(p.get("target") == 8080 for p in ports), "lb publishes the API (container port 8080)")
    check(any(p.get("target") == 8404 for p in ports), "lb publishes the stats page (container port 8404)")

    print("kafka")
    kenv = env_of(services["kafka"])
    cid = str(kenv.get("CLUSTER_ID", ""))
    try:
        ok = len(base64.urlsafe_b64decode(cid + "=" * (-len(cid) % 4))) == 16 and len(cid) == 22
    except ValueError:
        ok = False
    check(ok, "CLUSTER_ID is a Kafka uuid (16 bytes, base64url): %s" % cid)
    check(str(kenv.get("KAFKA_PROCESS_ROLES")) == "broker,controller", "KRaft, broker and controller in one node")
    check("PLAINTEXT://kafka:9092" in str(kenv.get("KAFKA_ADVERTISED_LISTENERS")), "advertises PLAINTEXT://kafka:9092")
    check(str(kenv.get("KAFKA_CONTROLLER_QUORUM_VOTERS")).startswith(str(kenv.get("KAFKA_NODE_ID")) + "@"),
          "the quorum voter is this node")
    check(str(kenv.get("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR")) == "1", "offsets topic replication factor 1")

    print("prometheus")
    with open(os.path.join(HERE, "prometheus.yml")) as f:
        prom = yaml.safe_load(f)
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    targets = lambda job: sorted(t for sc in jobs.get(job, {}).get("static_configs", []) for t in sc["targets"])
    check(targets("gateway") == ["gateway-1:8081", "gateway-2:8081"], "job gateway scrapes gateway-1:8081, gateway-2:8081")
    check(targets("retrainer") == ["retrainer:8082"], "job retrainer scrapes retrainer:8082")
    for job in ("gateway", "retrainer"):
        check(jobs.get(job, {}).get("metrics_path") == "/actuator/prometheus", "job %s: path /actuator/prometheus" % job)
    check(prom.get("rule_files") == ["rules/*.yml"], "rule_files: rules/*.yml, relative to the config file")
    pv = volume_targets(services["prometheus"])
    check(pv.get("/etc/prometheus/prometheus.yml", ("", False))[0] == os.path.join(HERE, "prometheus.yml"),
          "prometheus mounts this prometheus.yml at /etc/prometheus/prometheus.yml")
    check(pv.get("/etc/prometheus/rules", ("", False))[0] == os.path.join(REPO, "deploy", "prometheus", "rules"),
          "prometheus mounts deploy/prometheus/rules at /etc/prometheus/rules (beside the config)")
    cmd = " ".join(services["prometheus"].get("command") or [])
    check("--config.file=/etc/prometheus/prometheus.yml" in cmd, "prometheus reads /etc/prometheus/prometheus.yml")

    print("grafana")
    with open(os.path.join(REPO, "deploy", "grafana", "provisioning", "datasources", "datasources.yml")) as f:
        ds = {d["uid"]: d for d in yaml.safe_load(f)["datasources"]}
    genv = env_of(services["grafana"])
    resolve = lambda url: re.sub(r"\$\{?(\w+)\}?", lambda m: str(genv.get(m.group(1), "")), url)
    check(resolve(ds["prometheus"]["url"]) == "http://prometheus:9090",
          "datasource prometheus -> %s" % resolve(ds["prometheus"]["url"]))
    check(resolve(ds["loki"]["url"]) == "http://loki:3100", "datasource loki -> %s" % resolve(ds["loki"]["url"]))
    gv = volume_targets(services["grafana"])
    check(gv.get("/etc/grafana/provisioning", ("", False)) == (os.path.join(REPO, "deploy", "grafana", "provisioning"), True),
          "grafana mounts deploy/grafana/provisioning read-only")
    check(gv.get("/var/lib/grafana/dashboards", ("", False)) == (os.path.join(REPO, "deploy", "grafana", "dashboards"), True),
          "grafana mounts deploy/grafana/dashboards read-only")

    print("loki (structure only: no Loki binary here to verify it)")
    with open(os.path.join(HERE, "loki.yml")) as f:
        loki = yaml.safe_load(f)
    check(loki.get("auth_enabled") is False, "single tenant (auth_enabled: false): the apps push without a tenant")
    check(loki["server"]["http_listen_port"] == 3100, "listens on 3100, the port of LOKI_URL")
    check(loki["common"]["path_prefix"] == "/loki" and "/loki" in volume_targets(services["loki"]),
          "data under /loki, the loki-data volume")
    schema = loki["schema_config"]["configs"][-1]
    check(schema["store"] == "tsdb" and schema["schema"] == "v13" and schema["object_store"] == "filesystem",
          "tsdb, schema v13, filesystem")
    lcmd = " ".join(services["loki"].get("command") or [])
    check("-config.file=/etc/loki/loki.yml" in lcmd and volume_targets(services["loki"]).get("/etc/loki/loki.yml"),
          "loki runs with the mounted loki.yml")

    print("load profile (gatling)")
    g = services["gatling"]
    check(g.get("profiles") == ["load"], "gatling only under profile load")
    gvols = volume_targets(g)
    check(gvols.get("/repo") == (REPO, True), "the repository is mounted read-only")
    check(gvols.get("/root/.m2", ("",))[0] == "m2" and "m2" in (cfg.get("volumes") or {}),
          "~/.m2 is the named volume m2")
    check(env_of(g).get("BASE_URL") == "http://lb:8080", "the simulations target lb:8080")
    check(depends(g).get("lb", {}).get("condition") == "service_healthy", "gatling waits for lb healthy")
    script = "\n".join(g.get("command") or []) if isinstance(g.get("command"), list) else str(g.get("command"))
    for prop in ("-DbaseUrl=", "-DapiKey=", "-Dgatling.simulationClass=io.mlgateway.loadtests.gatling."):
        check(prop in script, "gatling passes " + prop)
    # The script as the container's bash gets it (Compose turns $$ into $): at least it parses.
    runtime = script.replace("$$", "$")
    parsed = subprocess.run(["bash", "-n", "-c", runtime], capture_output=True, text=True)
    check(parsed.returncode == 0, "gatling's script parses (bash -n)%s" % (": " + parsed.stderr.strip() if parsed.stderr else ""))
    # The properties the simulations read (LoadSettings.java).
    with open(os.path.join(REPO, "load-tests", "src", "test", "java", "io", "mlgateway", "loadtests", "gatling",
                           "LoadSettings.java")) as f:
        settings = f.read()
    for prop in ("baseUrl", "apiKey"):
        check('System.getProperty("%s"' % prop in settings, "LoadSettings reads -D%s" % prop)

    print()
    if failures:
        print("%d check(s) failed" % len(failures))
        return 1
    print("all compose assertions passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
