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
//    scrape annotations, references between objects, and per environment: no secret data and pinned images in
//    production ...). See POLICIES below.
//
// Usage: node validate.mjs [--env local|production] [--external-secret NAME]... FILE...
// Exit: 0 all valid, 1 any object invalid (each problem printed), 2 usage or read error.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import * as k8s from "kubernetes-models";

// ---------------------------------------------------------------------------------------------------------------
// Command line
const args = process.argv.slice(2);
let env = null;
const externalSecrets = new Set();
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--env") env = args[++i];
  else if (args[i] === "--external-secret") externalSecrets.add(args[++i]);
  else if (args[i].startsWith("--")) usage(`unknown option ${args[i]}`);
  else files.push(args[i]);
}
if (files.length === 0) usage("no files");
if (env !== null && !["local", "production"].includes(env)) usage(`--env must be local or production, not ${env}`);

function usage(msg) {
  console.error(`validate.mjs: ${msg}\nusage: node validate.mjs [--env local|production] [--external-secret NAME]... FILE...`);
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
const id = (o) => `${o.kind}/${o.metadata?.name}`;
const labelsMatch = (selector, labels) =>
  Object.entries(selector ?? {}).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const portNumbers = (pod) => new Set(pod.containers.flatMap((c) => (c.ports ?? []).map((p) => p.containerPort)));
const portNames = (pod) => new Set(pod.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)));

const POLICIES = [
  ["labels", "every object is labelled part-of " + PART_OF + "; workloads, Services, PDBs and HPAs also by name", (objs) =>
    objs.flatMap((o) => [
      ...(o.metadata?.labels?.["app.kubernetes.io/part-of"] === PART_OF ? [] : [`${id(o)}: no label app.kubernetes.io/part-of=${PART_OF}`]),
      ...(["Deployment", "Service", "PodDisruptionBudget", "HorizontalPodAutoscaler"].includes(o.kind) && !o.metadata?.labels?.["app.kubernetes.io/name"]
        ? [`${id(o)}: no label app.kubernetes.io/name`] : []),
    ])],

  ["pod-template", "labels, Prometheus scrape annotations on a container port, no service account token", (objs, ctx) =>
    ctx.workloads.flatMap((w) => {
      const t = w.spec.template, a = t.metadata?.annotations ?? {}, p = [];
      if (!t.metadata?.labels?.["app.kubernetes.io/name"] || t.metadata.labels["app.kubernetes.io/part-of"] !== PART_OF)
        p.push(`${id(w)}: pod template lacks app.kubernetes.io/name or part-of`);
      if (a["prometheus.io/scrape"] !== "true") p.push(`${id(w)}: pod template lacks prometheus.io/scrape: "true"`);
      if (a["prometheus.io/path"] !== "/actuator/prometheus") p.push(`${id(w)}: prometheus.io/path is not /actuator/prometheus`);
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
        p.push(`${id(w)} container ${c.name}: memory request ${r.requests.memory} != limit ${r.limits?.memory} (the heap is sized from the limit)`);
      return p;
    })],

  ["probes", "startup, readiness and liveness probes on the actuator health groups", (objs, ctx) =>
    ctx.containers.flatMap(({ w, c }) => {
      const want = { startupProbe: "/actuator/health/", readinessProbe: "/actuator/health/readiness", livenessProbe: "/actuator/health/liveness" };
      const names = portNames(w.spec.template.spec);
      return Object.entries(want).flatMap(([probe, path]) => {
        const g = c[probe]?.httpGet;
        if (!g) return [`${id(w)} container ${c.name}: no ${probe} (httpGet)`];
        const p = [];
        if (!String(g.path).startsWith(path)) p.push(`${id(w)} container ${c.name}: ${probe} path ${g.path} is not ${path}`);
        if (typeof g.port === "string" ? !names.has(g.port) : !portNumbers(w.spec.template.spec).has(g.port))
          p.push(`${id(w)} container ${c.name}: ${probe} port ${g.port} is not a container port`);
        return p;
      });
    })],

  ["security", "non-root 65532, read-only root, no privilege escalation, capabilities drop ALL, seccomp RuntimeDefault, /tmp an emptyDir", (objs, ctx) =>
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
      if (!tmp || !(pod.volumes ?? []).some((v) => v.name === tmp.name && v.emptyDir))
        p.push(`${where}: /tmp is not an emptyDir mount (the JVM extracts native libraries there)`);
      return p;
    })],

  ["shutdown", `preStop sleep handler, terminationGracePeriodSeconds > preStop + ${DRAIN_SECONDS} s drain`, (objs, ctx) =>
    ctx.containers.flatMap(({ w, c }) => {
      const pre = c.lifecycle?.preStop, p = [];
      if (!pre?.sleep) p.push(`${id(w)} container ${c.name}: preStop is not a sleep handler${pre?.exec ? " (exec needs a shell the image lacks)" : ""}`);
      const grace = w.spec.template.spec.terminationGracePeriodSeconds ?? 30;
      const need = (pre?.sleep?.seconds ?? 0) + DRAIN_SECONDS;
      if (!(grace > need)) p.push(`${id(w)}: terminationGracePeriodSeconds ${grace} is not above ${need} (preStop + drain)`);
      return p;
    })],

  ["image-tag", "registry name with an explicit tag or digest", (objs, ctx) =>
    ctx.containers.flatMap(({ w, c }) =>
      /(:[\w][\w.-]*|@sha256:[0-9a-f]{64})$/.test(c.image.split("/").pop()) ? [] : [`${id(w)} container ${c.name}: image ${c.image} has no tag`])],

  ["references", "ConfigMaps and Secrets used exist (or are declared external), Service/PDB selectors and HPA targets match", (objs, ctx) => {
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

  ["availability", "every Deployment has a PodDisruptionBudget, and replicas or an autoscaler", (objs, ctx) =>
    ctx.workloads.flatMap((w) => [
      ...(objs.some((o) => o.kind === "PodDisruptionBudget" && labelsMatch(o.spec.selector?.matchLabels, w.spec.template.metadata?.labels)) ? [] : [`${id(w)}: no PodDisruptionBudget`]),
      ...(w.spec.replicas !== undefined || ctx.hpaFor(w) ? [] : [`${id(w)}: neither replicas nor a HorizontalPodAutoscaler`]),
    ])],
];

const PRODUCTION_POLICIES = [
  ["production-no-secret-data", "no Secret with data (secrets are created out of band)", (objs) =>
    objs.filter((o) => o.kind === "Secret" && (Object.keys(o.data ?? {}).length || Object.keys(o.stringData ?? {}).length))
      .map((o) => `${id(o)}: a Secret with data in the production output`)],

  ["production-pinned-images", "images pinned (no latest)", (objs, ctx) =>
    ctx.containers.flatMap(({ w, c }) => (/:latest$/.test(c.image) || !/[:@]/.test(c.image.split("/").pop()) ? [`${id(w)} container ${c.name}: image ${c.image} not pinned`] : []))],

  ["production-replicas-spread", "gateway at least 3 pods (HPA minimum), spread over nodes; retrainer 2 replicas", (objs, ctx) => {
    const p = [], gw = ctx.workloads.find((w) => w.metadata.name === "gateway"), rt = ctx.workloads.find((w) => w.metadata.name === "retrainer");
    if (!gw) return ["no gateway Deployment"];
    const min = ctx.hpaFor(gw)?.spec.minReplicas ?? gw.spec.replicas ?? 1;
    if (min < 3) p.push(`Deployment/gateway: at least ${min} pods, not 3`);
    const pod = gw.spec.template.spec;
    if (!(pod.topologySpreadConstraints ?? []).some((t) => t.topologyKey === "kubernetes.io/hostname") && !pod.affinity?.podAntiAffinity)
      p.push("Deployment/gateway: neither a topology spread over kubernetes.io/hostname nor pod anti-affinity");
    if (!rt || (rt.spec.replicas ?? 1) < 2) p.push("Deployment/retrainer: fewer than 2 replicas");
    return p;
  }],

  ["production-no-api-docs", "gateway has SPRINGDOC_API_DOCS_ENABLED=false", (objs, ctx) => {
    const gw = ctx.containers.find(({ w }) => w.metadata.name === "gateway")?.c;
    if (!gw) return ["no gateway container"];
    const direct = (gw.env ?? []).find((e) => e.name === "SPRINGDOC_API_DOCS_ENABLED");
    const fromMaps = (gw.envFrom ?? []).map((e) => objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === e.configMapRef?.name)?.data?.SPRINGDOC_API_DOCS_ENABLED).filter((v) => v !== undefined);
    const value = direct ? direct.value : fromMaps.at(-1); // env wins over envFrom; the last envFrom wins
    return value === "false" ? [] : [`Deployment/gateway: SPRINGDOC_API_DOCS_ENABLED is ${value}, not false`];
  }],
];

function policyErrors(objs) {
  const workloads = objs.filter((o) => WORKLOAD_KINDS.has(o.kind) && o.spec?.template?.spec);
  const ctx = {
    workloads,
    containers: workloads.flatMap((w) => [...(w.spec.template.spec.initContainers ?? []), ...w.spec.template.spec.containers].map((c) => ({ w, c }))),
    hpaFor: (w) => objs.find((o) => o.kind === "HorizontalPodAutoscaler" && o.spec?.scaleTargetRef?.kind === w.kind && o.spec.scaleTargetRef.name === w.metadata.name),
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
