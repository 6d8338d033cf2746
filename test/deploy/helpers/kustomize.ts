/**
 * A small kustomize renderer for the subset of kustomize our manifests use (there is no kustomize
 * binary in CI). Anything outside the subset throws, so a kustomization that relies on a feature
 * this renderer would silently ignore cannot pass the tests. Supported, with kustomize's meaning:
 *
 * - `resources`: YAML files (several documents allowed) and directories holding a kustomization;
 * - `namespace`: set on every namespaced resource of this kustomization, nested ones included;
 * - `labels`: `pairs`, optionally `includeTemplates`, added to `metadata.labels` (selectors are
 *   never touched: `includeSelectors: true` is refused);
 * - `configMapGenerator`: `name`, `namespace`, `files` (`path` or `key=path`, inside the
 *   kustomization's folder) and `options.labels`; `options.disableNameSuffixHash: true` is
 *   required, because a hashed name would stop in-place policy updates from reaching pods;
 * - `patches`: `path` only, strategic-merge patches that name their target by kind and name, for
 *   built-in kinds whose list merge keys are known here.
 *
 * Order follows kustomize: resources and generators, then patches, then namespace, then labels.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { asRecord, readYaml, readYamlDocuments } from "./repo.js";

/** One rendered Kubernetes object. */
export type Manifest = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown> & { name: string; namespace?: string; labels?: Record<string, string> };
};

const supportedKeys = new Set(["apiVersion", "kind", "resources", "namespace", "labels", "configMapGenerator", "patches"]);
const clusterScopedKinds = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"]);

/** List fields that strategic merge merges element by element, and the key that pairs elements. */
const mergeKeys: Readonly<Record<string, string>> = {
  containers: "name",
  initContainers: "name",
  volumes: "name",
  volumeMounts: "mountPath",
  env: "name",
  ports: "containerPort",
};
const strategicMergeKinds = new Set(["Deployment", "StatefulSet", "DaemonSet", "Service", "ConfigMap"]);

class KustomizeError extends Error {
  constructor(dir: string, message: string) {
    super(`${dir}: ${message}`);
  }
}

/** Renders the kustomization in `dir` (a folder holding kustomization.yaml). */
export function renderKustomization(dir: string): Manifest[] {
  const root = resolve(dir);
  const file = join(root, "kustomization.yaml");
  if (!existsSync(file)) throw new KustomizeError(root, "no kustomization.yaml");
  const k = asRecord(readYaml(file));
  if (k === undefined) throw new KustomizeError(root, "kustomization.yaml is not a mapping");
  for (const key of Object.keys(k)) {
    if (!supportedKeys.has(key)) throw new KustomizeError(root, `unsupported kustomization field "${key}"`);
  }
  if (k.apiVersion !== "kustomize.config.k8s.io/v1beta1" || k.kind !== "Kustomization") {
    throw new KustomizeError(root, "expected apiVersion kustomize.config.k8s.io/v1beta1, kind Kustomization");
  }

  const manifests: Manifest[] = [];
  for (const entry of stringList(root, k.resources, "resources")) {
    const path = resolve(root, entry);
    if (!existsSync(path)) throw new KustomizeError(root, `resource ${entry} does not exist`);
    if (statSync(path).isDirectory()) manifests.push(...renderKustomization(path));
    else manifests.push(...readYamlDocuments(path).map((doc) => toManifest(path, doc)));
  }
  manifests.push(...generateConfigMaps(root, k.configMapGenerator));
  assertUniqueIds(root, manifests);

  for (const entry of objectList(root, k.patches, "patches")) applyPatch(root, manifests, entry);

  if (k.namespace !== undefined) {
    if (typeof k.namespace !== "string") throw new KustomizeError(root, "namespace must be a string");
    for (const m of manifests) if (!clusterScopedKinds.has(m.kind)) m.metadata.namespace = k.namespace;
    assertUniqueIds(root, manifests);
  }

  for (const entry of objectList(root, k.labels, "labels")) applyLabels(root, manifests, entry);
  return manifests;
}

function toManifest(source: string, doc: unknown): Manifest {
  const record = asRecord(doc);
  const metadata = asRecord(record?.metadata);
  if (
    record === undefined ||
    typeof record.apiVersion !== "string" ||
    typeof record.kind !== "string" ||
    metadata === undefined ||
    typeof metadata.name !== "string"
  ) {
    throw new KustomizeError(source, "every document needs apiVersion, kind and metadata.name");
  }
  return record as Manifest;
}

function stringList(dir: string, value: unknown, field: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new KustomizeError(dir, `${field} must be a list of strings`);
  }
  return value as string[];
}

function objectList(dir: string, value: unknown, field: string): Record<string, unknown>[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new KustomizeError(dir, `${field} must be a list`);
  return value.map((v) => {
    const record = asRecord(v);
    if (record === undefined) throw new KustomizeError(dir, `${field} entries must be mappings`);
    return record;
  });
}

function assertOnlyKeys(dir: string, record: Record<string, unknown>, allowed: string[], where: string): void {
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) throw new KustomizeError(dir, `unsupported field "${key}" in ${where}`);
  }
}

/** Identity as kustomize sees it: API group, kind, namespace, name. */
function resourceId(m: Manifest): string {
  const group = m.apiVersion.includes("/") ? m.apiVersion.split("/")[0] : "";
  return `${group}/${m.kind}/${m.metadata.namespace ?? "~default"}/${m.metadata.name}`;
}

function assertUniqueIds(dir: string, manifests: Manifest[]): void {
  const seen = new Set<string>();
  for (const m of manifests) {
    const id = resourceId(m);
    if (seen.has(id)) throw new KustomizeError(dir, `resource ${id} is defined twice`);
    seen.add(id);
  }
}

function generateConfigMaps(dir: string, value: unknown): Manifest[] {
  return objectList(dir, value, "configMapGenerator").map((gen) => {
    assertOnlyKeys(dir, gen, ["name", "namespace", "files", "options"], "configMapGenerator");
    if (typeof gen.name !== "string") throw new KustomizeError(dir, "configMapGenerator needs a name");
    const options = asRecord(gen.options) ?? {};
    assertOnlyKeys(dir, options, ["disableNameSuffixHash", "labels"], "configMapGenerator options");
    if (options.disableNameSuffixHash !== true) {
      throw new KustomizeError(dir, `configMapGenerator ${gen.name}: name suffix hashing is not supported`);
    }
    const data: Record<string, string> = {};
    for (const spec of stringList(dir, gen.files, "configMapGenerator files")) {
      const equals = spec.indexOf("=");
      const [key, path] = equals < 0 ? [basename(spec), spec] : [spec.slice(0, equals), spec.slice(equals + 1)];
      const full = resolve(dir, path);
      if (relative(dir, full).startsWith("..")) {
        throw new KustomizeError(dir, `${spec}: generator files must be inside the kustomization folder`);
      }
      if (key in data) throw new KustomizeError(dir, `configMapGenerator ${gen.name}: key ${key} twice`);
      data[key] = readFileSync(full, "utf8");
    }
    const metadata: Manifest["metadata"] = { name: gen.name };
    if (typeof gen.namespace === "string") metadata.namespace = gen.namespace;
    const labels = asRecord(options.labels);
    if (labels !== undefined) metadata.labels = { ...(labels as Record<string, string>) };
    return { apiVersion: "v1", kind: "ConfigMap", metadata, data };
  });
}

function applyPatch(dir: string, manifests: Manifest[], entry: Record<string, unknown>): void {
  assertOnlyKeys(dir, entry, ["path"], "patches (only path-based strategic-merge patches)");
  if (typeof entry.path !== "string") throw new KustomizeError(dir, "patch needs a path");
  const path = resolve(dir, entry.path);
  const docs = readYamlDocuments(path);
  if (docs.length !== 1) throw new KustomizeError(dir, `${entry.path}: one patch document per file`);
  const patch = toManifest(path, docs[0]);
  if (!strategicMergeKinds.has(patch.kind)) {
    throw new KustomizeError(dir, `${entry.path}: strategic merge of kind ${patch.kind} is not supported`);
  }
  const targets = manifests.filter(
    (m) =>
      m.kind === patch.kind &&
      m.apiVersion === patch.apiVersion &&
      m.metadata.name === patch.metadata.name &&
      (patch.metadata.namespace === undefined || m.metadata.namespace === patch.metadata.namespace),
  );
  if (targets.length !== 1) {
    throw new KustomizeError(dir, `${entry.path}: matches ${targets.length} resources, expected exactly 1`);
  }
  const target = targets[0] as Manifest;
  const merged = strategicMerge(path, target, patch) as Manifest;
  manifests[manifests.indexOf(target)] = merged;
}

/** Strategic merge without directives: maps merge, keyed lists merge by key, other lists are replaced. */
export function strategicMerge(source: string, base: unknown, patch: unknown, field = ""): unknown {
  const patchRecord = asRecord(patch);
  if (patchRecord === undefined) {
    if (!Array.isArray(patch)) return patch;
    const key = mergeKeys[field];
    if (key === undefined || !Array.isArray(base)) return patch;
    const result = [...(base as unknown[])];
    for (const item of patch) {
      const itemKey = asRecord(item)?.[key];
      if (itemKey === undefined) throw new KustomizeError(source, `${field} entries need "${key}"`);
      const at = result.findIndex((existing) => asRecord(existing)?.[key] === itemKey);
      if (at === -1) result.push(item);
      else result[at] = strategicMerge(source, result[at], item, field);
    }
    return result;
  }
  const result: Record<string, unknown> = { ...(asRecord(base) ?? {}) };
  for (const [key, value] of Object.entries(patchRecord)) {
    if (key.startsWith("$")) throw new KustomizeError(source, `patch directive ${key} is not supported`);
    if (value === null) delete result[key];
    else result[key] = strategicMerge(source, result[key], value, key);
  }
  return result;
}

function applyLabels(dir: string, manifests: Manifest[], entry: Record<string, unknown>): void {
  assertOnlyKeys(dir, entry, ["pairs", "includeSelectors", "includeTemplates"], "labels");
  if (entry.includeSelectors === true) throw new KustomizeError(dir, "labels.includeSelectors is not supported");
  const pairs = asRecord(entry.pairs);
  if (pairs === undefined || !Object.values(pairs).every((v) => typeof v === "string")) {
    throw new KustomizeError(dir, "labels.pairs must map strings to strings");
  }
  for (const m of manifests) {
    m.metadata.labels = { ...m.metadata.labels, ...(pairs as Record<string, string>) };
    const template = entry.includeTemplates === true ? asRecord(asRecord(asRecord(m.spec)?.template)?.metadata) : undefined;
    if (template !== undefined) template.labels = { ...asRecord(template.labels), ...pairs };
  }
}

/** Every folder under `dir` that holds a kustomization.yaml, relative to `dir` ("." for `dir` itself). */
export function findKustomizations(dir: string, under = dir): string[] {
  const here = existsSync(join(under, "kustomization.yaml")) ? [relative(dir, under) || "."] : [];
  const children = readdirSync(under)
    .sort()
    .map((name) => join(under, name))
    .filter((path) => statSync(path).isDirectory());
  return [...here, ...children.flatMap((child) => findKustomizations(dir, child))];
}
