#!/usr/bin/env node
// Validates Kubernetes manifests (multi-document YAML files, e.g. `kubectl kustomize` output) in two stages:
//
// 1. Schema: each object against the Kubernetes OpenAPI schema of its apiVersion/kind, using the validators that
//    the npm package kubernetes-models generates from that schema (types, required fields, enums, formats), plus
//    strict field checking: kubernetes-models' schemas allow unknown properties (so does the API server's
//    OpenAPI, which leaves rejecting them to kubectl's --validate=strict), so this script records which properties
//    the schema validator looked up while walking each object; a property present in an object the validator
//    walked but never looked up is not in the schema: `unknown field`. Maps (labels, data, resources.limits) are
//    walked key by key, so their keys count as looked up. An apiVersion/kind the package does not know fails:
//    nothing is skipped.
// 2. Policies (with --env): the project's rules for its own manifests (resources, probes, security context,
//    scrape annotations, references between objects, the routing by user: the gateway StatefulSet, the router and
//    its haproxy.cfg against deploy/compose/haproxy.cfg; and per environment: no secret data and pinned images in
//    production ...). See POLICIES below.
//
// Usage: node validate.mjs [--env local|production] [--external-secret NAME]... [--compose-haproxy FILE] FILE...
// --compose-haproxy: the configuration whose routing the router's must equal (default deploy/compose/haproxy.cfg).
// Exit: 0 all valid, 1 any object invalid (each problem printed), 2 usage or read error.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import * as k8s from "kubernetes-models";
import { GATEWAY, ROUTER, envReferences, findRouter, haproxySeconds, imageName, parseConfig, section, tokens } from "./haproxy.mjs";

// ---------------------------------------------------------------------------------------------------------------
// Command line
const args = process.argv.slice(2);
let env = null;
const externalSecrets = new Set();
let composeHaproxy = fileURLToPath(new URL("../../compose/haproxy.cfg", import.meta.url));
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--env") env = args[++i];
  else if (args[i] === "--external-secret") externalSecrets.add(args[++i]);
  else if (args[i] === "--compose-haproxy") composeHaproxy = args[++i];
  else if (args[i].startsWith("--")) usage(`unknown option ${args[i]}`);
  else files.push(args[i]);
}
if (files.length === 0) usage("no files");
if (env !== null && !["local", "production"].includes(env)) usage(`--env must be local or production, not ${env}`);

function usage(msg) {
  console.error(`validate.mjs: ${msg}\nusage: node validate.mjs [--env local|production] [--external-secret NAME]... [--compose-haproxy FILE] FILE...`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------------------------
// The model classes of kubernetes-models by "apiVersion/kind" (e.g. "apps/v1/Deployment", "v1/Service").
const MODELS = new Map();
(function collect(ns, seen = new Set()) {
  if (!ns || (typeof ns !== "object" && typeof ns !== "function") || seen.has(ns)) return;
  seen.add(ns);
  if (typeof ns === "function" && typeof ns.apiVersion === "string" && typeof ns.kind === "string") {
    MODELS.set(`${ns.apiVersion}/${ns.kind}`, ns);
    return;
  }
  for (const key of Object.keys(ns)) collect(ns[key], seen);
})(k8s);
if (MODELS.size < 50) {
  console.error(`validate.mjs: only ${MODELS.size} kinds found in kubernetes-models: the package layout changed`);
  process.exit(2);
}

// ---------------------------------------------------------------------------------------------------------------
// Strict fields: a deep copy of the object in which every object is a Proxy recording the property names read.
function instrument(value, path, nodes) {
  if (Array.isArray(value)) return value.map((v, i) => instrument(v, `${path}/${i}`, nodes));
  if (value === null || typeof value !== "object") return value;
  const node = { path, keys: Object.keys(value), read: new Set(), walked: false };
  nodes.push(node);
  const copy = {};
  for (const k of node.keys) copy[k] = instrument(value[k], `${path}/${k.replaceAll("~", "~0").replaceAll("/", "~1")}`, nodes);
  const note = (k) => {
    node.walked = true;
    if (typeof k === "string") node.read.add(k);
  };
  return new Proxy(copy, {
    get(t, k, r) { note(k); return Reflect.get(t, k, r); },
    has(t, k) { note(k); return Reflect.has(t, k); },
    ownKeys(t) { node.walked = true; return Reflect.ownKeys(t); },
  });
}

// kustomize writes long Secret values as base64 wrapped at 70 characters; the API server's decoder (Go's
// encoding/base64) skips the line breaks, the schema's "byte" format does not: validate the value as the server reads it.
function withoutBase64LineBreaks(obj) {
  if (obj.kind !== "Secret" || !obj.data) return obj;
  const data = Object.fromEntries(Object.entries(obj.data).map(([k, v]) => [k, typeof v === "string" ? v.replace(/[\r\n]/g, "") : v]));
  return { ...obj, data };
}

function schemaErrors(obj) {
  const key = `${obj.apiVersion}/${obj.kind}`;
  const Model = MODELS.get(key);
  if (!Model) return [`unknown kind ${key}: not in the Kubernetes schemas of kubernetes-models`];
  const nodes = [];
  const errors = [];
  try {
    // The generated validate function, run on the instrumented copy (`this` is the object validated).
    Model.prototype.validate.call(instrument(withoutBase64LineBreaks(obj), "", nodes));
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    for (const err of e.errors) errors.push(`${err.instancePath || "/"} ${err.message}${err.params && Object.keys(err.params).length ? " " + JSON.stringify(err.params) : ""}`);
  }
  for (const node of nodes) {
    if (!node.walked) continue; // not walked: under a free-form field, or under an unknown field already reported
    for (const k of node.keys) if (!node.read.has(k)) errors.push(`${node.path || "/"} unknown field "${k}"`);
  }
  return errors;
}

// ---------------------------------------------------------------------------------------------------------------
// Policies: [name, what it requires, check]. A check takes all objects of one file (one rendered overlay) and
// returns its problems as strings.
const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet"]);
const DRAIN_SECONDS = 30; // spring.lifecycle.timeout-per-shutdown-phase of both apps
const PART_OF = "ml-inference-gateway";
const WARM_UP_INSTANCE = "GATEWAY_MODEL_CACHE_WARM_UP_INSTANCE";
const SHUTDOWN_DRAIN = "GATEWAY_HTTP_SHUTDOWN_DRAIN";
// The router's sections that must equal deploy/compose/haproxy.cfg's, line for line: everything that decides where
// a request goes, when it is retried and when a gateway counts as ready. Only the server lines and the resolvers'
// name differ by nature (Docker's containers and DNS there, the StatefulSet's pods and the cluster DNS here).
const ROUTING_SECTIONS = ["defaults", "frontend api", "backend gateways", "frontend grpc", "backend gateways-grpc",
  "frontend stats", "frontend health"];
const id = (o) => `${o.kind}/${o.metadata?.name}`;
const labelsMatch = (selector, labels) =>
  Object.entries(selector ?? {}).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const portNumbers = (pod) => new Set(pod.containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort)));
const portNames = (pod) => new Set(pod.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)));
// HAProxy (the router) rather than one of the JVM apps: other probes, metrics path and shutdown, no /tmp.
const isHaproxy = (c) => imageName(c.image) === "haproxy";
const envOf = (c, name) => (c.env ?? []).find((e) => e.name === name);
const escapeRe = (s) => String(s).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

// A Spring Boot duration as the apps read it ("5s", "500ms", "1m", a bare number of milliseconds, "PT5S") in
// seconds; NaN if not one.
function springSeconds(v) {
  const simple = /^(\d+)(ns|us|ms|s|m|h|d)?$/i.exec(String(v ?? "").trim());
  if (simple) return Number(simple[1]) * { ns: 1e-9, us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 }[(simple[2] ?? "ms").toLowerCase()];
  const iso = /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/i.exec(String(v ?? "").trim());
  if (iso && (iso[1] || iso[2] || iso[3])) return Number(iso[1] ?? 0) * 3600 + Number(iso[2] ?? 0) * 60 + Number(iso[3] ?? 0);
  return NaN;
}

// A gateway's shutdown drain (readiness 503, still serving) in seconds: 0 when unset, NaN when not a duration.
const shutdownDrain = (c) => {
  const e = envOf(c, SHUTDOWN_DRAIN);
  return e === undefined ? 0 : e.value === undefined ? NaN : springSeconds(e.value);
};

// The value after a keyword among a line's tokens ("inter" in "default-server check inter 2s").
const after = (words, keyword) => { const i = words.indexOf(keyword); return i >= 0 ? words[i + 1] : undefined; };

// The router's default-server words (backend gateways, else defaults) and servers of backend gateways.
function defaultServer(sections) {
  for (const key of ["backend gateways", "defaults"]) {
    const l = section(sections, key)?.lines.find((x) => x.text.startsWith("default-server "));
    if (l) return tokens(l.text);
  }
  return [];
}
function servers(sections, backend = "backend gateways") {
  return (section(sections, backend)?.lines ?? []).filter((l) => l.text.startsWith("server ")).map((l) => {
    const [, name, addr, ...params] = tokens(l.text);
    return { name, addr, params, line: l.line };
  });
}

// How long the router takes to mark a gateway down once its readiness fails: the first failed check comes up to
// `inter` later, the other fall - 1 `fastinter` apart (HAProxy's defaults: inter 2 s, fastinter = inter, fall 3).
function takeOutSeconds(sections) {
  const ds = defaultServer(sections);
  const inter = haproxySeconds(after(ds, "inter") ?? "2s");
  const fastinter = after(ds, "fastinter") !== undefined ? haproxySeconds(after(ds, "fastinter")) : inter;
  const fall = Number(after(ds, "fall") ?? 3);
  return inter + (fall - 1) * fastinter;
}

// The section's lines as compared with compose's: no server lines, default-server without its resolvers' name.
const routingLines = (sec) => sec ? sec.lines.map((l) => l.text).filter((t) => !t.startsWith("server "))
  .map((t) => (t.startsWith("default-server ") ? t.replace(/ resolvers \S+/, "") : t)) : null;

let composeSections = null;
function composeConfig() {
  if (composeSections === null) {
    try {
      composeSections = parseConfig(readFileSync(composeHaproxy, "utf8"));
    } catch (e) {
      console.error(`validate.mjs: cannot read ${composeHaproxy} (--compose-haproxy): ${e.message}`);
      process.exit(2);
    }
  }
  return composeSections;
}
const COMPOSE = "deploy/compose/haproxy.cfg";

const POLICIES = [
  ["labels", "every object is labelled part-of " + PART_OF + "; workloads, Services, PDBs and HPAs also by name", (objs) =>
    objs.flatMap((o) => [
      ...(o.metadata?.labels?.["app.kubernetes.io/part-of"] === PART_OF ? [] : [`${id(o)}: no label app.kubernetes.io/part-of=${PART_OF}`]),
      ...(["Deployment", "StatefulSet", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"].includes(o.kind) && !o.metadata?.labels?.["app.kubernetes.io/name"]
        ? [`${id(o)}: no label app.kubernetes.io/name`] : []),
    ])],

  ["pod-template", "labels, Prometheus scrape annotations on a container port (apps /actuator/prometheus, router /metrics), no service account token", (objs, ctx) =>
    ctx.workloads.flatMap((w) => {
      const t = w.spec.template, a = t.metadata?.annotations ?? {}, p = [];
      const path = t.spec.containers.some(isHaproxy) ? "/metrics" : "/actuator/prometheus";
      if (!t.metadata?.labels?.["app.kubernetes.io/name"] || t.metadata.labels["app.kubernetes.io/part-of"] !== PART_OF)
        p.push(`${id(w)}: pod template lacks app.kubernetes.io/name or part-of`);
      if (a["prometheus.io/scrape"] !== "true") p.push(`${id(w)}: pod template lacks prometheus.io/scrape: "true"`);
      if (a["prometheus.io/path"] !== path) p.push(`${id(w)}: prometheus.io/path is not ${path}`);
      if (!portNumbers(t.spec).has(Number(a["prometheus.io/port"]))) p.push(`${id(w)}: prometheus.io/port ${a["prometheus.io/port"]} is not a container port`);
      if (t.spec.automountServiceAccountToken !== false) p.push(`${id(w)}: automountServiceAccountToken is not false`);
      return p;
    })],

  ["resources", "requests and limits (cpu, memory), memory request = limit", (objs, ctx) =>
    ctx.containers.flatMap(({ w, c }) => {
      const r = c.resources ?? {}, p = [];
      for (const kind of ["requests", "limits"]) for (const res of ["cpu", "memory"])
        if (r[kind]?.[res] === undefined) p.push(`${id(w)} container ${c.name}: no resources.${kind}.${res}`);
      if (r.requests?.memory !== undefined && r.requests.memory !== r.limits?.memory)
        p.push(`${id(w)} container ${c.name}: memory request ${r.requests.memory} != limit ${r.limits?.memory} (${isHaproxy(c) ? "squeezed under node pressure" : "the heap is sized from the limit"})`);
      return p;
    })],

  ["probes", "apps: startup, readiness and liveness probes on the actuator health groups; router: ready on /healthz (a gateway is ready), alive on anything else", (objs, ctx) =>
    ctx.containers.flatMap(({ w, c }) => {
      const pod = w.spec.template.spec, names = portNames(pod), numbers = portNumbers(pod);
      const want = isHaproxy(c)
        ? { readinessProbe: "/healthz", livenessProbe: "/" }
        : { startupProbe: "/actuator/health/", readinessProbe: "/actuator/health/readiness", livenessProbe: "/actuator/health/liveness" };
      return Object.entries(want).flatMap(([probe, path]) => {
        const g = c[probe]?.httpGet;
        if (!g) return [`${id(w)} container ${c.name}: no ${probe} (httpGet)`];
        const p = [];
        if (!String(g.path).startsWith(path)) p.push(`${id(w)} container ${c.name}: ${probe} path ${g.path} is not ${path}`);
        if (isHaproxy(c) && probe === "livenessProbe" && String(g.path).startsWith("/healthz"))
          p.push(`${id(w)} container ${c.name}: livenessProbe on /healthz, which fails whenever no gateway is ready: every router would be restarted for it`);
        if (typeof g.port === "string" ? !names.has(g.port) : !numbers.has(g.port))
          p.push(`${id(w)} container ${c.name}: ${probe} port ${g.port} is not a container port`);
        return p;
      });
    })],

  ["security", "non-root 65532, read-only root, no privilege escalation, capabilities drop ALL, seccomp RuntimeDefault; apps: /tmp an emptyDir", (objs, ctx) =>
    ctx.containers.flatMap(({ w, c }) => {
      const pod = w.spec.template.spec, ps = pod.securityContext ?? {}, cs = c.securityContext ?? {}, p = [];
      const pick = (k) => cs[k] ?? ps[k];
      const where = `${id(w)} container ${c.name}`;
      if (pick("runAsNonRoot") !== true) p.push(`${where}: runAsNonRoot is not true`);
      if (pick("runAsUser") !== 65532) p.push(`${where}: runAsUser is not 65532`);
      if ((cs.seccompProfile ?? ps.seccompProfile)?.type !== "RuntimeDefault") p.push(`${where}: seccompProfile is not RuntimeDefault`);
      if (cs.readOnlyRootFilesystem !== true) p.push(`${where}: readOnlyRootFilesystem is not true`);
      if (cs.allowPrivilegeEscalation !== false) p.push(`${where}: allowPrivilegeEscalation is not false`);
      if (!(cs.capabilities?.drop ?? []).includes("ALL")) p.push(`${where}: capabilities.drop lacks ALL`);
      if (cs.privileged) p.push(`${where}: privileged`);
      const tmp = (c.volumeMounts ?? []).find((m) => m.mountPath === "/tmp");
      if (!isHaproxy(c) && (!tmp || !(pod.volumes ?? []).some((v) => v.name === tmp.name && v.emptyDir)))
        p.push(`${where}: /tmp is not an emptyDir mount (the JVM extracts native libraries there)`);
      return p;
    })],

  ["shutdown", `preStop sleep handler, terminationGracePeriodSeconds > preStop + drain (apps: ${SHUTDOWN_DRAIN} + ${DRAIN_SECONDS} s; router: hard-stop-after)`, (objs, ctx) =>
    ctx.containers.flatMap(({ w, c }) => {
      const pre = c.lifecycle?.preStop, p = [];
      if (!pre?.sleep) p.push(`${id(w)} container ${c.name}: preStop is not a sleep handler${pre?.exec ? " (exec needs a shell the image lacks)" : ""}`);
      let drain = DRAIN_SECONDS;
      if (isHaproxy(c) && ctx.router.c === c && ctx.router.sections) {
        const hard = section(ctx.router.sections, "global")?.lines.find((l) => l.text.startsWith("hard-stop-after "));
        if (!hard) p.push(`${id(w)}: haproxy.cfg has no hard-stop-after: a soft stop could outlast terminationGracePeriodSeconds`);
        else drain = haproxySeconds(tokens(hard.text)[1]);
      } else if (!isHaproxy(c)) {
        const extra = shutdownDrain(c);
        if (Number.isNaN(extra)) p.push(`${id(w)} container ${c.name}: ${SHUTDOWN_DRAIN} is not a duration`);
        else drain += extra;
      }
      const grace = w.spec.template.spec.terminationGracePeriodSeconds ?? 30;
      const need = (pre?.sleep?.seconds ?? 0) + drain;
      if (!(grace > need)) p.push(`${id(w)}: terminationGracePeriodSeconds ${grace} is not above ${need} (preStop + drain)`);
      return p;
    })],

  ["image-tag", "registry name with an explicit tag or digest", (objs, ctx) =>
    ctx.containers.flatMap(({ w, c }) =>
      /(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/.test(c.image.split("/").pop()) ? [] : [`${id(w)} container ${c.name}: image ${c.image} has no tag`])],

  ["references", "ConfigMaps and Secrets used (env, volumes) exist (or are declared external), Service/PDB selectors and HPA targets match", (objs, ctx) => {
    const names = (kind) => new Set(objs.filter((o) => o.kind === kind).map((o) => o.metadata.name));
    const cms = names("ConfigMap"), secrets = new Set([...names("Secret"), ...externalSecrets]);
    const p = [];
    for (const { w, c } of ctx.containers) {
      for (const e of c.envFrom ?? []) {
        if (e.configMapRef && !cms.has(e.configMapRef.name) && !e.configMapRef.optional) p.push(`${id(w)}: ConfigMap ${e.configMapRef.name} not in the output`);
        if (e.secretRef && !secrets.has(e.secretRef.name) && !e.secretRef.optional) p.push(`${id(w)}: Secret ${e.secretRef.name} neither in the output nor external`);
      }
      for (const e of c.env ?? []) {
        const cm = e.valueFrom?.configMapKeyRef, s = e.valueFrom?.secretKeyRef;
        if (cm && !cms.has(cm.name) && !cm.optional) p.push(`${id(w)}: ConfigMap ${cm.name} not in the output`);
        if (s && !secrets.has(s.name) && !s.optional) p.push(`${id(w)}: Secret ${s.name} (env ${e.name}) neither in the output nor external`);
      }
    }
    for (const w of ctx.workloads) for (const v of w.spec.template.spec.volumes ?? []) {
      if (v.configMap && !cms.has(v.configMap.name) && !v.configMap.optional) p.push(`${id(w)}: ConfigMap ${v.configMap.name} (volume ${v.name}) not in the output`);
      if (v.secret && !secrets.has(v.secret.secretName) && !v.secret.optional) p.push(`${id(w)}: Secret ${v.secret.secretName} (volume ${v.name}) neither in the output nor external`);
    }
    const podLabels = ctx.workloads.map((w) => w.spec.template.metadata?.labels ?? {});
    for (const o of objs) {
      if (o.kind === "Service" && !podLabels.some((l) => labelsMatch(o.spec.selector, l))) p.push(`${id(o)}: selector matches no pod template`);
      if (o.kind === "Service") for (const port of o.spec.ports ?? []) {
        const targets = ctx.workloads.filter((w) => labelsMatch(o.spec.selector, w.spec.template.metadata?.labels));
        if (typeof port.targetPort === "string" && !targets.some((w) => portNames(w.spec.template.spec).has(port.targetPort)))
          p.push(`${id(o)}: targetPort ${port.targetPort} is no container port name`);
      }
      if (o.kind === "PodDisruptionBudget" && !podLabels.some((l) => labelsMatch(o.spec.selector?.matchLabels, l))) p.push(`${id(o)}: selector matches no pod template`);
      if (o.kind === "HorizontalPodAutoscaler") {
        const t = ctx.workloads.find((w) => w.kind === o.spec.scaleTargetRef.kind && w.metadata.name === o.spec.scaleTargetRef.name);
        if (!t) p.push(`${id(o)}: target ${o.spec.scaleTargetRef.kind}/${o.spec.scaleTargetRef.name} not in the output`);
        else if (t.spec.replicas !== undefined) p.push(`${id(t)}: sets replicas although ${id(o)} scales it (every apply would reset the count)`);
        if (!(o.spec.metrics ?? []).some((m) => m.resource?.name === "cpu")) p.push(`${id(o)}: no CPU metric`);
      }
    }
    return p;
  }],

  ["availability", "every workload has a PodDisruptionBudget, and replicas or an autoscaler", (objs, ctx) =>
    ctx.workloads.flatMap((w) => [
      ...(objs.some((o) => o.kind === "PodDisruptionBudget" && labelsMatch(o.spec.selector?.matchLabels, w.spec.template.metadata?.labels)) ? [] : [`${id(w)}: no PodDisruptionBudget`]),
      ...(w.spec.replicas !== undefined || ctx.hpaFor(w) ? [] : [`${id(w)}: neither replicas nor a HorizontalPodAutoscaler`]),
    ])],

  // --- routing by user: the gateway pods, the router, its configuration ---------------------------------------------
  ["gateway-statefulset", `the gateway is a StatefulSet (Parallel) with a headless Service naming its pods; ${WARM_UP_INSTANCE} is the pod's name; ${SHUTDOWN_DRAIN} outlasts the router's take-out`, (objs, ctx) => {
    const gw = ctx.gateway;
    if (!gw) return [`no workload named ${GATEWAY}`];
    if (gw.kind !== "StatefulSet") return [`${id(gw)}: not a StatefulSet: the router's servers and the warm-up need stable pod names`];
    const p = [];
    if (gw.spec.podManagementPolicy !== "Parallel")
      p.push(`${id(gw)}: podManagementPolicy is ${gw.spec.podManagementPolicy ?? "OrderedReady"}, not Parallel (a scale-up would start one pod at a time)`);
    const svc = objs.find((o) => o.kind === "Service" && o.metadata.name === gw.spec.serviceName);
    if (!svc) p.push(`${id(gw)}: serviceName ${gw.spec.serviceName} is no Service in the output`);
    else {
      if (svc.spec.clusterIP !== "None") p.push(`${id(svc)}: not headless (clusterIP: None), so ${id(gw)}'s pods get no DNS names of their own`);
      if (!labelsMatch(svc.spec.selector, gw.spec.template.metadata?.labels)) p.push(`${id(svc)}: selector does not match ${id(gw)}'s pods`);
    }
    const c = gw.spec.template.spec.containers[0];
    if (envOf(c, WARM_UP_INSTANCE)?.valueFrom?.fieldRef?.fieldPath !== "metadata.name")
      p.push(`${id(gw)} container ${c.name}: ${WARM_UP_INSTANCE} is not from the pod's metadata.name (downward API): a restarted pod would not warm the users the router sends it`);
    if (ctx.router.sections) {
      const takeOut = takeOutSeconds(ctx.router.sections), drain = shutdownDrain(c);
      if (!(drain > takeOut))
        p.push(`${id(gw)} container ${c.name}: ${SHUTDOWN_DRAIN} ${envOf(c, SHUTDOWN_DRAIN)?.value ?? "unset"} is not longer than the router takes to mark a stopping gateway down (${takeOut} s: inter + (fall - 1) x fastinter)`);
    }
    return p;
  }],

  ["router", `a Deployment ${ROUTER} (haproxy) with its haproxy.cfg from a ConfigMap and every variable the file expands set; Service ${GATEWAY} (8080) selects the router's pods and no other`, (objs, ctx) => {
    const r = ctx.router, p = [...r.problems];
    if (r.c && r.text !== null) {
      for (const [name, hasDefault] of envReferences(r.text))
        if (!hasDefault && !envOf(r.c, name)) p.push(`${id(r.w)} container ${r.c.name}: haproxy.cfg expands \${${name}}, which its env does not set (HAProxy would refuse the file)`);
      const ns = envOf(r.c, "POD_NAMESPACE");
      if (ns && ns.valueFrom?.fieldRef?.fieldPath !== "metadata.namespace")
        p.push(`${id(r.w)} container ${r.c.name}: POD_NAMESPACE is not from the pod's metadata.namespace (downward API)`);
    }
    const svc = objs.find((o) => o.kind === "Service" && o.metadata.name === GATEWAY);
    if (!svc) return [...p, `no Service/${GATEWAY} (the clients' address)`];
    const selected = ctx.workloads.filter((w) => labelsMatch(svc.spec.selector, w.spec.template.metadata?.labels));
    if (r.w && !selected.includes(r.w)) p.push(`${id(svc)}: does not select the router's pods`);
    for (const w of selected.filter((x) => x !== r.w)) p.push(`${id(svc)}: selects ${id(w)}'s pods: their requests would bypass the routing by user`);
    const api = (svc.spec.ports ?? []).find((x) => x.port === 8080);
    if (!api) p.push(`${id(svc)}: no port 8080`);
    else if (r.c) {
      const target = api.targetPort ?? api.port;
      const cp = (r.c.ports ?? []).find((x) => x.name === target || x.containerPort === target);
      if (cp?.containerPort !== 8080) p.push(`${id(svc)}: port 8080 does not reach the router's port 8080 (frontend api)`);
    }
    return p;
  }],

  ["router-servers", "haproxy.cfg's servers are the gateway pods in order (name = pod name, fully qualified DNS name, a distinct id), at least as many as the HPA's maxReplicas; resolved at run time", (objs, ctx) => {
    const r = ctx.router, gw = ctx.gateway;
    if (!r.sections) return [`no router configuration (see policy router)`];
    if (!gw) return [`no workload named ${GATEWAY}`];
    const where = `ConfigMap/${r.cm.metadata.name} haproxy.cfg`;
    const list = servers(r.sections), p = [];
    if (list.length === 0) return [`${where}: backend gateways has no server`];
    const name = gw.metadata.name, svc = gw.spec.serviceName, ns = gw.metadata.namespace;
    const port = (gw.spec.template.spec.containers[0].ports ?? []).find((x) => x.name === "api")?.containerPort ?? 8080;
    const host = (n) => new RegExp(`^${escapeRe(n)}\\.${escapeRe(svc)}\\.(\\$\\{POD_NAMESPACE\\}${ns ? "|" + escapeRe(ns) : ""})\\.svc\\.[^:]+:${port}$`);
    const ids = new Map();
    list.forEach((s, i) => {
      const want = `${name}-${i}`;
      if (s.name !== want) p.push(`${where}: server ${i + 1} (line ${s.line}) is ${s.name}, not ${want}: the servers are the pods ${name}-0, ${name}-1, ... in order, each named as its pod (its ${WARM_UP_INSTANCE})`);
      if (!host(s.name).test(s.addr)) p.push(`${where}: server ${s.name}: address ${s.addr} is not ${s.name}.${svc}.<namespace: \${POD_NAMESPACE}${ns ? ` or ${ns}` : ""}>.svc.<cluster domain>:${port} (fully qualified: no search domain applies at run time)`);
      const sid = after(s.params, "id");
      if (sid === undefined) p.push(`${where}: server ${s.name}: no id (the id places it in the ring; without one it follows the server's position in the file)`);
      else if (ids.has(sid)) p.push(`${where}: server ${s.name}: id ${sid} is ${ids.get(sid)}'s already`);
      else ids.set(sid, s.name);
      const rest = s.params.filter((t, j) => s.params[j - 1] !== "id" && t !== "id");
      if (rest.length) p.push(`${where}: server ${s.name}: "${rest.join(" ")}" besides its id (weight, checks and resolution belong on default-server, the same for every gateway)`);
    });
    const hpa = ctx.hpaFor(gw), max = hpa ? hpa.spec.maxReplicas : gw.spec.replicas ?? 1;
    if (list.length < max)
      p.push(`${where}: servers for ${list.length} pods (up to ${name}-${list.length - 1}), but ${hpa ? `${id(hpa)} may scale ${id(gw)} to ${max}` : `${id(gw)} has ${max} replicas`}: the pods beyond would get no user`);
    const ds = defaultServer(r.sections), resolvers = after(ds, "resolvers");
    if (!resolvers) p.push(`${where}: default-server has no resolvers: a re-created gateway pod's new address would never be learnt`);
    else if (!section(r.sections, `resolvers ${resolvers}`)?.lines.some((l) => /^(parse-resolv-conf|nameserver )/.test(l.text)))
      p.push(`${where}: resolvers ${resolvers}: no such section, or it has no nameserver (parse-resolv-conf)`);
    if (!(after(ds, "init-addr") ?? "").split(",").includes("none"))
      p.push(`${where}: default-server init-addr lacks none: HAProxy would not start while a pod the HPA has not created does not resolve`);
    return p;
  }],

  ["router-grpc-servers", "backend gateways-grpc has backend gateways' servers (names, ids, order: the same ring, so a user's gRPC calls reach the gateway holding its model), each on the pod's grpc port over HTTP/2 (proto h2)", (objs, ctx) => {
    const r = ctx.router, gw = ctx.gateway;
    if (!r.sections) return [`no router configuration (see policy router)`];
    if (!gw) return [`no workload named ${GATEWAY}`];
    const where = `ConfigMap/${r.cm.metadata.name} haproxy.cfg`, p = [];
    const api = servers(r.sections), grpc = servers(r.sections, "backend gateways-grpc");
    const grpcPort = (gw.spec.template.spec.containers[0].ports ?? []).find((x) => x.name === "grpc")?.containerPort;
    if (grpcPort === undefined) return [`${id(gw)}: no container port named grpc`];
    if (grpc.length !== api.length) p.push(`${where}: backend gateways-grpc has ${grpc.length} servers, backend gateways ${api.length}`);
    grpc.forEach((s, i) => {
      const a = api[i];
      if (!a) return;
      if (s.name !== a.name || after(s.params, "id") !== after(a.params, "id"))
        p.push(`${where}: gateways-grpc server ${i + 1} is ${s.name} id ${after(s.params, "id")}, backend gateways' is ${a.name} id ${after(a.params, "id")}: the two rings differ`);
      if (s.addr !== a.addr.replace(/:\d+$/, `:${grpcPort}`)) p.push(`${where}: gateways-grpc server ${s.name}: address ${s.addr} is not ${a.addr.replace(/:\d+$/, `:${grpcPort}`)}`);
      if (after(s.params, "proto") !== "h2") p.push(`${where}: gateways-grpc server ${s.name}: no "proto h2" (gRPC is HTTP/2 end to end)`);
    });
    return p;
  }],

  ["routing-rules", `the router routes as ${COMPOSE}: its sections ${ROUTING_SECTIONS.join(", ")} equal compose's line for line (but the server lines and the resolvers' name)`, (objs, ctx) => {
    const r = ctx.router;
    if (!r.sections) return [`no router configuration (see policy router)`];
    const where = `ConfigMap/${r.cm.metadata.name} haproxy.cfg`, compose = composeConfig(), p = [];
    for (const key of ROUTING_SECTIONS) {
      const want = routingLines(section(compose, key)), have = routingLines(section(r.sections, key));
      if (want === null) { p.push(`${composeHaproxy}: no section ${key}`); continue; }
      if (have === null) { p.push(`${where}: no section ${key} (${COMPOSE} has one)`); continue; }
      const missing = want.filter((l) => !have.includes(l)), extra = have.filter((l) => !want.includes(l));
      for (const l of missing) p.push(`${where}: ${key} lacks \`${l}\` (${COMPOSE} has it)`);
      for (const l of extra) p.push(`${where}: ${key} has \`${l}\`, which ${COMPOSE} has not`);
      if (!missing.length && !extra.length && want.join("\n") !== have.join("\n"))
        p.push(`${where}: ${key}: the same lines as ${COMPOSE} in another order (rules apply in order)`);
    }
    return p;
  }],
];

const PRODUCTION_POLICIES = [
  ["production-no-secret-data", "no Secret with data (secrets are created out of band)", (objs) =>
    objs.filter((o) => o.kind === "Secret" && (Object.keys(o.data ?? {}).length || Object.keys(o.stringData ?? {}).length))
      .map((o) => `${id(o)}: a Secret with data in the production output`)],

  ["production-pinned-images", "images pinned (no latest)", (objs, ctx) =>
    ctx.containers.flatMap(({ w, c }) => (/:latest$/.test(c.image) || !/[:@]/.test(c.image.split("/").pop()) ? [`${id(w)} container ${c.name}: image ${c.image} not pinned`] : []))],

  ["production-replicas-spread", "gateway at least 3 pods (HPA minimum), router 2 replicas, both spread over nodes; retrainer 2 replicas", (objs, ctx) => {
    const p = [], gw = ctx.gateway, router = ctx.router.w, rt = ctx.workloads.find((w) => w.metadata.name === "retrainer");
    const spread = (w) => {
      const pod = w.spec.template.spec;
      if (!(pod.topologySpreadConstraints ?? []).some((t) => t.topologyKey === "kubernetes.io/hostname") && !pod.affinity?.podAntiAffinity)
        p.push(`${id(w)}: neither a topology spread over kubernetes.io/hostname nor pod anti-affinity`);
    };
    if (!gw) p.push(`no workload named ${GATEWAY}`);
    else {
      const min = ctx.hpaFor(gw)?.spec.minReplicas ?? gw.spec.replicas ?? 1;
      if (min < 3) p.push(`${id(gw)}: at least ${min} pods, not 3`);
      spread(gw);
    }
    if (!router) p.push(`no Deployment/${ROUTER}`);
    else {
      if ((router.spec.replicas ?? 1) < 2) p.push(`${id(router)}: fewer than 2 replicas (one router going away would cut the API off)`);
      spread(router);
    }
    if (!rt || (rt.spec.replicas ?? 1) < 2) p.push("Deployment/retrainer: fewer than 2 replicas");
    return p;
  }],

  ["production-no-api-docs", "gateway has SPRINGDOC_API_DOCS_ENABLED=false", (objs, ctx) => {
    const found = ctx.containers.find(({ w }) => w.metadata.name === GATEWAY);
    if (!found) return ["no gateway container"];
    const gw = found.c;
    const direct = (gw.env ?? []).find((e) => e.name === "SPRINGDOC_API_DOCS_ENABLED");
    const fromMaps = (gw.envFrom ?? []).map((e) => objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === e.configMapRef?.name)?.data?.SPRINGDOC_API_DOCS_ENABLED).filter((v) => v !== undefined);
    const value = direct ? direct.value : fromMaps.at(-1); // env wins over envFrom; the last envFrom wins
    return value === "false" ? [] : [`${id(found.w)}: SPRINGDOC_API_DOCS_ENABLED is ${value}, not false`];
  }],
];

function policyErrors(objs) {
  const workloads = objs.filter((o) => WORKLOAD_KINDS.has(o.kind) && o.spec?.template?.spec);
  const router = findRouter(objs);
  router.sections = router.text !== null ? parseConfig(router.text) : null;
  const ctx = {
    workloads,
    containers: workloads.flatMap((w) => [...(w.spec.template.spec.initContainers ?? []), ...w.spec.template.spec.containers].map((c) => ({ w, c }))),
    hpaFor: (w) => objs.find((o) => o.kind === "HorizontalPodAutoscaler" && o.spec?.scaleTargetRef?.kind === w.kind && o.spec.scaleTargetRef.name === w.metadata.name),
    gateway: workloads.find((w) => w.metadata.name === GATEWAY),
    router,
  };
  const policies = env === "production" ? [...POLICIES, ...PRODUCTION_POLICIES] : POLICIES;
  return policies.map(([name, what, fn]) => [name, what, fn(objs, ctx)]);
}

// ---------------------------------------------------------------------------------------------------------------
let failed = false;
for (const file of files) {
  let docs;
  try {
    docs = parseAllDocuments(readFileSync(file, "utf8"));
  } catch (e) {
    console.error(`validate.mjs: cannot read ${file}: ${e.message}`);
    process.exit(2);
  }
  const objs = [];
  for (const doc of docs) {
    if (doc.errors.length) { console.log(`FAIL ${file}: YAML: ${doc.errors.map((e) => e.message).join("; ")}`); failed = true; continue; }
    const obj = doc.toJS();
    if (obj === null || obj === undefined) continue; // empty document
    objs.push(obj);
  }
  if (objs.length === 0) { console.log(`FAIL ${file}: no objects`); failed = true; continue; }

  let schemaFailed = 0;
  for (const obj of objs) {
    const errs = typeof obj === "object" && obj.apiVersion && obj.kind ? schemaErrors(obj) : ["not a Kubernetes object (apiVersion and kind)"];
    const name = `${obj?.kind}/${obj?.metadata?.name} (${obj?.apiVersion})`;
    if (errs.length) { schemaFailed++; for (const e of errs) console.log(`FAIL ${file}: ${name}: schema: ${e}`); }
    else console.log(`ok   ${file}: ${name}: schema`);
  }
  failed ||= schemaFailed > 0;

  if (env !== null) {
    if (schemaFailed) { console.log(`FAIL ${file}: policies not checked (schema errors)`); continue; }
    for (const [name, what, errs] of policyErrors(objs)) {
      if (errs.length) { failed = true; for (const e of errs) console.log(`FAIL ${file}: policy ${name}: ${e}`); }
      else console.log(`ok   ${file}: policy ${name} (${what})`);
    }
  }
}
process.exit(failed ? 1 : 0);
