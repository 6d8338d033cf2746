// The test renderer must agree with kustomize on the subset we use, and refuse everything else:
// a feature it silently ignored would let a broken kustomization pass the manifest tests.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { findKustomizations, renderKustomization, strategicMerge } from "./helpers/kustomize.js";
import { dig } from "./helpers/repo.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "meshrasp-kustomize-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(path: string, text: string): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), text);
}

const header = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";
const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  labels: { app: app }
spec:
  selector: { matchLabels: { app: app } }
  template:
    metadata: { labels: { app: app } }
    spec:
      containers:
      - name: app
        image: app:1
        args: [a, b]
        ports: [{ containerPort: 8080 }]
      volumes:
      - name: data
        emptyDir: {}
`;

describe("resources", () => {
  it("reads multi-document files and nested kustomizations", () => {
    write("app/kustomization.yaml", `${header}resources: [objects.yaml]\n`);
    write("app/objects.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: b }\n");
    write("kustomization.yaml", `${header}resources: [app]\n`);
    expect(renderKustomization(dir).map((m) => m.metadata.name)).toEqual(["a", "b"]);
  });

  it("refuses missing resources, unsupported fields and duplicate objects", () => {
    write("kustomization.yaml", `${header}resources: [missing.yaml]\n`);
    expect(() => renderKustomization(dir)).toThrow(/missing.yaml does not exist/);
    write("kustomization.yaml", `${header}images: [{ name: app, newTag: "2" }]\n`);
    expect(() => renderKustomization(dir)).toThrow(/unsupported kustomization field "images"/);
    write("a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a }\n");
    write("kustomization.yaml", `${header}resources: [a.yaml, a.yaml]\n`);
    expect(() => renderKustomization(dir)).toThrow(/defined twice/);
  });

  it("refuses documents without apiVersion, kind or name", () => {
    write("a.yaml", "kind: ConfigMap\nmetadata: { name: a }\n");
    write("kustomization.yaml", `${header}resources: [a.yaml]\n`);
    expect(() => renderKustomization(dir)).toThrow(/apiVersion, kind and metadata.name/);
  });
});

describe("namespace and labels", () => {
  it("sets the namespace on namespaced objects only, overriding nested kustomizations", () => {
    write("inner/kustomization.yaml", `${header}namespace: inner\nresources: [cm.yaml]\n`);
    write("inner/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: a, namespace: other }\n");
    write("ns.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: { name: outer }\n");
    write("kustomization.yaml", `${header}namespace: outer\nresources: [inner, ns.yaml]\n`);
    const objects = renderKustomization(dir);
    expect(objects.map((m) => [m.kind, m.metadata.namespace])).toEqual([
      ["ConfigMap", "outer"],
      ["Namespace", undefined],
    ]);
    expect(renderKustomization(join(dir, "inner"))[0]?.metadata.namespace).toBe("inner");
  });

  it("adds labels to metadata, to pod templates only when asked, never to selectors", () => {
    write("d.yaml", deployment);
    write("kustomization.yaml", `${header}resources: [d.yaml]\nlabels:\n- pairs: { team: sec }\n`);
    const [plain] = renderKustomization(dir);
    expect(plain?.metadata.labels).toEqual({ app: "app", team: "sec" });
    expect(dig(plain, "spec", "template", "metadata", "labels")).toEqual({ app: "app" });
    expect(dig(plain, "spec", "selector", "matchLabels")).toEqual({ app: "app" });
    write("kustomization.yaml", `${header}resources: [d.yaml]\nlabels:\n- pairs: { team: sec }\n  includeTemplates: true\n`);
    expect(dig(renderKustomization(dir)[0], "spec", "template", "metadata", "labels")).toEqual({ app: "app", team: "sec" });
    write("kustomization.yaml", `${header}resources: [d.yaml]\nlabels:\n- pairs: { team: sec }\n  includeSelectors: true\n`);
    expect(() => renderKustomization(dir)).toThrow(/includeSelectors/);
  });
});

describe("configMapGenerator", () => {
  it("builds a ConfigMap from files, with key=path renaming, options.labels and a namespace", () => {
    write("policy.yaml", "a: 1\n");
    write("dash.json", "{}\n");
    write(
      "kustomization.yaml",
      `${header}configMapGenerator:\n- name: p\n  namespace: x\n  files: [policy.yaml, board.json=dash.json]\n  options:\n    disableNameSuffixHash: true\n    labels: { k: v }\n`,
    );
    expect(renderKustomization(dir)).toEqual([
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "p", namespace: "x", labels: { k: "v" } },
        data: { "policy.yaml": "a: 1\n", "board.json": "{}\n" },
      },
    ]);
  });

  it("refuses hashed names, files outside the folder, and unknown options", () => {
    write("policy.yaml", "a: 1\n");
    write("kustomization.yaml", `${header}configMapGenerator:\n- name: p\n  files: [policy.yaml]\n`);
    expect(() => renderKustomization(dir)).toThrow(/suffix hashing/);
    write("sub/kustomization.yaml", `${header}configMapGenerator:\n- name: p\n  files: [../policy.yaml]\n  options: { disableNameSuffixHash: true }\n`);
    expect(() => renderKustomization(join(dir, "sub"))).toThrow(/inside the kustomization folder/);
    write("kustomization.yaml", `${header}configMapGenerator:\n- name: p\n  literals: [a=b]\n  options: { disableNameSuffixHash: true }\n`);
    expect(() => renderKustomization(dir)).toThrow(/literals/);
  });
});

describe("patches", () => {
  it("merges containers and volumes by name, replaces other lists, and keeps the rest", () => {
    write("d.yaml", deployment);
    write(
      "patch.yaml",
      `apiVersion: apps/v1
kind: Deployment
metadata: { name: app }
spec:
  template:
    spec:
      automountServiceAccountToken: false
      containers:
      - name: app
        args: [c]
      - name: sidecar
        image: side:1
      volumes:
      - name: extra
        emptyDir: {}
`,
    );
    write("kustomization.yaml", `${header}resources: [d.yaml]\npatches:\n- path: patch.yaml\n`);
    const [patched] = renderKustomization(dir);
    const spec = dig(patched, "spec", "template", "spec");
    expect(dig(spec, "automountServiceAccountToken")).toBe(false);
    expect(dig(spec, "containers")).toEqual([
      { name: "app", image: "app:1", args: ["c"], ports: [{ containerPort: 8080 }] },
      { name: "sidecar", image: "side:1" },
    ]);
    expect((dig(spec, "volumes") as { name: string }[]).map((v) => v.name)).toEqual(["data", "extra"]);
  });

  it("refuses patches that match nothing, CRDs, and directives", () => {
    write("d.yaml", deployment);
    write("kustomization.yaml", `${header}resources: [d.yaml]\npatches:\n- path: patch.yaml\n`);
    write("patch.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: other }\n");
    expect(() => renderKustomization(dir)).toThrow(/matches 0 resources/);
    write("patch.yaml", "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata: { name: app }\n");
    expect(() => renderKustomization(dir)).toThrow(/kind EnvoyFilter is not supported/);
    write("patch.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: app }\n$patch: delete\n");
    expect(() => renderKustomization(dir)).toThrow(/directive/);
    write("kustomization.yaml", `${header}resources: [d.yaml]\npatches:\n- path: patch.yaml\n  target: { kind: Deployment }\n`);
    expect(() => renderKustomization(dir)).toThrow(/target/);
  });

  it("deletes a field patched to null", () => {
    expect(strategicMerge("t", { a: 1, b: 2 }, { b: null })).toEqual({ a: 1 });
  });
});

it("finds every kustomization in a tree", () => {
  write("kustomization.yaml", header);
  write("a/kustomization.yaml", header);
  write("a/b/kustomization.yaml", header);
  write("c/readme.md", "");
  expect(findKustomizations(dir)).toEqual([".", "a", "a/b"]);
});
