// The router's HAProxy configuration as validate.mjs and check.sh need it: parsed into sections of normalized
// lines, the environment variables it expands, and the router found in a set of rendered objects.
//
// As a command (check.sh), writes what `haproxy -c` needs to check the configuration as a router pod would load it:
//   node haproxy.mjs extract RENDERED.yaml OUTDIR
// OUTDIR/haproxy.cfg is the router ConfigMap's file; OUTDIR/haproxy.env holds NAME=value lines for the
// variables the router container's env sets (downward API values resolved as the kubelet would: the namespace,
// the CPU limit). Exit 1 when the file has no router.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseAllDocuments } from "yaml";

export const ROUTER = "router"; // the router Deployment's name
export const GATEWAY = "gateway"; // the gateway StatefulSet's name, and the prefix of its pods' names
export const CONFIG_DIR = "/usr/local/etc/haproxy"; // where the haproxy image reads haproxy.cfg
export const CONFIG_KEY = "haproxy.cfg";

const SECTION_KEYWORDS = new Set(["global", "defaults", "frontend", "backend", "listen", "resolvers", "peers",
  "userlist", "mailers", "program", "http-errors", "ring", "cache"]);

// A line without its comment (an unquoted, unescaped #), whitespace runs collapsed: what HAProxy parses.
function stripComment(line) {
  let quote = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === "\\") { i++; continue; }
    if (quote) { if (ch === quote) quote = null; continue; }
    if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "#") return line.slice(0, i);
  }
  return line;
}

// Sections in file order: { key: "backend gateways", keyword, name, lines: [{ text, line }] }. The text before the
// first section (comments only, in practice) is dropped.
export function parseConfig(text) {
  const sections = [];
  text.split("\n").forEach((raw, i) => {
    const t = stripComment(raw).trim().replace(/\s+/g, " ");
    if (!t) return;
    const [first, ...rest] = t.split(" ");
    if (SECTION_KEYWORDS.has(first)) {
      sections.push({ key: [first, rest[0]].filter(Boolean).join(" "), keyword: first, name: rest[0] ?? "", lines: [] });
    } else if (sections.length) {
      sections.at(-1).lines.push({ text: t, line: i + 1 });
    }
  });
  return sections;
}

export const section = (sections, key) => sections.find((s) => s.key === key);

// Tokens of a line, quotes removed (HAProxy's own word splitting, enough for server lines).
export const tokens = (text) => (text.match(/"[^"]*"|'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^(["'])(.*)\1$/, "$2"));

// The environment variables a configuration expands (only inside double quotes, as HAProxy does): name ->
// whether a default ("${NAME-default}") covers it when unset.
export function envReferences(text) {
  const refs = new Map();
  for (const raw of text.split("\n")) {
    for (const [, quoted] of stripComment(raw).matchAll(/"([^"]*)"/g)) {
      for (const m of quoted.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)(-[^}]*)?(\[\*\])?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g)) {
        const name = m[1] ?? m[4];
        refs.set(name, (refs.get(name) ?? true) && m[2] !== undefined);
      }
    }
  }
  return refs;
}

// HAProxy time ("2s", "500ms", "1m"; a bare number is milliseconds) in seconds; NaN if not one.
export function haproxySeconds(v) {
  const m = /^(\d+(?:\.\d+)?)(us|ms|s|m|h|d)?$/.exec(String(v ?? ""));
  if (!m) return NaN;
  return Number(m[1]) * { us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600, d: 86400 }[m[2] ?? "ms"];
}

// The router in rendered objects: its Deployment, the haproxy container, the ConfigMap mounted where the image
// reads haproxy.cfg and that file's text. Missing pieces are null; `problems` says which and why.
export function findRouter(objs) {
  const r = { w: null, c: null, cm: null, text: null, problems: [] };
  r.w = objs.find((o) => o.kind === "Deployment" && o.metadata?.name === ROUTER && o.spec?.template?.spec) ?? null;
  if (!r.w) { r.problems.push(`no Deployment/${ROUTER} (the router in front of the gateways)`); return r; }
  const pod = r.w.spec.template.spec;
  r.c = pod.containers.find((c) => imageName(c.image) === "haproxy") ?? null;
  if (!r.c) { r.problems.push(`Deployment/${ROUTER}: no container runs the haproxy image`); return r; }
  const mount = (r.c.volumeMounts ?? []).find((m) => m.mountPath === CONFIG_DIR);
  const volume = mount && (pod.volumes ?? []).find((v) => v.name === mount.name);
  if (!volume?.configMap) { r.problems.push(`Deployment/${ROUTER} container ${r.c.name}: no ConfigMap volume mounted at ${CONFIG_DIR}`); return r; }
  r.cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata?.name === volume.configMap.name) ?? null;
  if (!r.cm) { r.problems.push(`Deployment/${ROUTER}: ConfigMap ${volume.configMap.name} not in the output`); return r; }
  const items = volume.configMap.items;
  const key = items ? items.find((i) => i.path === CONFIG_KEY)?.key : CONFIG_KEY;
  r.text = key !== undefined ? r.cm.data?.[key] ?? null : null;
  if (r.text === null) r.problems.push(`ConfigMap/${r.cm.metadata.name}: no ${CONFIG_KEY} for Deployment/${ROUTER} at ${CONFIG_DIR}/${CONFIG_KEY}`);
  return r;
}

// "haproxy" for "haproxy:2.6", "docker.io/library/haproxy@sha256:...".
export function imageName(image) {
  return String(image ?? "").split("@")[0].split("/").pop().split(":")[0];
}

// Kubernetes CPU quantity in cores ("2", "500m", "1.5").
export function cpuCores(q) {
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(String(q ?? ""));
  return m ? Number(m[1]) / (m[2] ? 1000 : 1) : NaN;
}

// The environment the kubelet would give container c of workload w (only what can be known without a cluster).
export function containerEnv(w, c) {
  const env = {};
  for (const e of c.env ?? []) {
    if (e.value !== undefined) env[e.name] = String(e.value);
    const f = e.valueFrom?.fieldRef?.fieldPath, r = e.valueFrom?.resourceFieldRef;
    if (f === "metadata.namespace") env[e.name] = w.metadata?.namespace ?? "default";
    if (f === "metadata.name") env[e.name] = `${w.metadata?.name}-check`;
    if (r && /^(limits|requests)\.cpu$/.test(r.resource)) {
      const [kind] = r.resource.split(".");
      const cores = cpuCores(c.resources?.[kind]?.cpu), divisor = cpuCores(r.divisor ?? "1");
      if (Number.isFinite(cores) && divisor > 0) env[e.name] = String(Math.ceil(cores / divisor));
    }
  }
  return env;
}

// --- command ------------------------------------------------------------------------------------------------------
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [cmd, file, out] = process.argv.slice(2);
  if (cmd !== "extract" || !file || !out) {
    console.error("usage: node haproxy.mjs extract RENDERED.yaml OUTDIR");
    process.exit(2);
  }
  const objs = parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS()).filter((o) => o && typeof o === "object");
  const r = findRouter(objs);
  if (r.text === null) {
    for (const p of r.problems) console.error(`haproxy.mjs: ${p}`);
    process.exit(1);
  }
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, "haproxy.cfg"), r.text);
  const env = containerEnv(r.w, r.c);
  writeFileSync(join(out, "haproxy.env"), Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(""));
  console.log(Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" "));
}
