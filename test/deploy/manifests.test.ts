// Every Kubernetes, Istio and prometheus-operator object under istio/, as rendered by kustomize,
// validates against its schema, and the pieces agree with each other and with meshrasp: the
// policy ConfigMap has the policy's shape, meshrasp pods are hardened, selectors select, alerts
// and dashboards use only metrics meshrasp exposes.
import { existsSync, readFileSync } from "node:fs";
import { parsePolicyDocument } from "../../ext-proc/src/policy/policy-document.js";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { meshraspMetrics, unknownMetrics } from "./helpers/expectations.js";
import {
  isDeployable,
  objectName,
  podContainers,
  renderIstio,
  validateManifest,
  type Manifest,
} from "./helpers/manifests.js";
import { asRecord, dig, parseYaml, readYaml, records, repoPath } from "./helpers/repo.js";

const rendered = renderIstio();
const deployables = [...rendered].filter(([name]) => isDeployable(name));
const packageVersion = String((JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as { version: unknown }).version);

describe("schemas", () => {
  it("renders the base, the overlays and their parts", () => {
    expect([...rendered.keys()]).toEqual(
      expect.arrayContaining(["base", "base/server", "base/workload", "policy", "overlays/per-pod", "overlays/streamed-response", "overlays/fail-open"]),
    );
  });

  const objects = [...rendered].flatMap(([kustomization, manifests]) =>
    manifests.map((m) => [`${kustomization}: ${m.kind} ${objectName(m)}`, m] as const),
  );
  it.each(objects)("%s validates", (_label, manifest) => {
    expect(() => validateManifest(manifest)).not.toThrow();
  });

  it("rejects objects that break their schema, and kinds it has no schema for", () => {
    const service = deployables[0]?.[1].find((m) => m.kind === "Service") as Manifest;
    expect(service).toBeDefined();
    expect(() => validateManifest({ ...service, spec: { ports: [{ port: "grpc" }] } })).toThrow();
    const filter = deployables[0]?.[1].find((m) => m.kind === "EnvoyFilter") as Manifest;
    expect(() => validateManifest({ ...filter, spec: { configPatches: [{ applyTo: "HTTP_FILTERS" }] } })).toThrow(/applyTo/);
    expect(() => validateManifest({ ...service, apiVersion: "example.com/v1", kind: "Widget" })).toThrow(/no schema/);
  });

  it("puts every namespaced object in an explicit namespace", () => {
    for (const [kustomization, manifests] of deployables) {
      for (const m of manifests.filter((o) => o.kind !== "Namespace")) {
        expect(m.metadata.namespace, `${kustomization}: ${m.kind} ${m.metadata.name}`).toMatch(/^[a-z0-9-]+$/);
      }
    }
  });
});

/** The policy schema users and editors get: shipped policies must satisfy exactly that. */
const policySchema = JSON.parse(readFileSync(repoPath("ext-proc/policies/policy.schema.json"), "utf8")) as object;
const validatePolicy = new Ajv({ allErrors: true, strict: true }).compile(policySchema);

describe("the policy", () => {
  it.each(deployables)("%s ships it as ConfigMap meshrasp-policy, key policy.yaml, in the shape meshrasp reads", (_name, manifests) => {
    const configMaps = manifests.filter((m) => m.kind === "ConfigMap" && m.metadata.name === "meshrasp-policy");
    expect(configMaps).toHaveLength(1);
    const text = dig(configMaps[0], "data", "policy.yaml");
    expect(typeof text).toBe("string");
    const policy = parseYaml(String(text));
    expect(validatePolicy(policy), JSON.stringify(validatePolicy.errors)).toBe(true);
  });

  it("the compose demo's policy has the same shape", () => {
    const policy = readYaml(repoPath("envoy/policy/policy.yaml"));
    expect(validatePolicy(policy), JSON.stringify(validatePolicy.errors)).toBe(true);
  });

  const shipped: [string, string][] = [
    ...deployables.map(([name, manifests]): [string, string] => [
      name,
      String(dig(manifests.find((m) => m.metadata.name === "meshrasp-policy"), "data", "policy.yaml")),
    ]),
    ["envoy/policy/policy.yaml", readFileSync(repoPath("envoy/policy/policy.yaml"), "utf8")],
  ];
  it.each(shipped)("%s: meshrasp's own policy loader accepts it, and its rule packs exist", (source, text) => {
    const policy = parsePolicyDocument(text, source);
    expect(policy.spec.rulePacks?.length).toBeGreaterThan(0);
    for (const pack of policy.spec.rulePacks ?? []) {
      expect(existsSync(repoPath("ext-proc/rules", `${pack}.yaml`)), pack).toBe(true);
    }
  });

  it("the shape check refuses a policy with a typo or a bad mode", () => {
    const policy = parseYaml(readFileSync(repoPath("istio/policy/policy.yaml"), "utf8")) as Record<string, unknown>;
    const spec = asRecord(policy.spec) ?? {};
    expect(validatePolicy({ ...policy, spec: { ...spec, rulepacks: ["sqli"] } })).toBe(false);
    expect(validatePolicy({ ...policy, spec: { ...spec, mode: "block" } })).toBe(false);
  });
});

/** The value after `flag` in a container's args. */
function argAfter(container: Record<string, unknown>, flag: string): string | undefined {
  const args = Array.isArray(container.args) ? (container.args as unknown[]) : [];
  const at = args.indexOf(flag);
  return at === -1 ? undefined : String(args[at + 1]);
}

function portOf(address: string | undefined): number {
  return Number(address?.slice(address.lastIndexOf(":") + 1));
}

function containerPortNamed(container: Record<string, unknown>, name: unknown): number | undefined {
  const ports = Array.isArray(container.ports) ? container.ports : [];
  const found = ports.find((p) => dig(p, "name") === name || dig(p, "containerPort") === name);
  return dig(found, "containerPort") as number | undefined;
}

const meshraspPods = deployables.flatMap(([kustomization, manifests]) =>
  manifests
    .filter((m) => m.kind === "Deployment")
    .flatMap((deployment) =>
      podContainers(deployment)
        .filter((c) => c.name === "meshrasp")
        .map((container) => [`${kustomization}: ${objectName(deployment)}`, { deployment, container, manifests }] as const),
    ),
);

describe("meshrasp pods", () => {
  it("run in the central pool and in per-pod mode", () => {
    expect(meshraspPods.map(([label]) => label)).toEqual(
      expect.arrayContaining(["base: meshrasp-system/meshrasp", "overlays/per-pod: demo/httpbin"]),
    );
  });

  it.each(meshraspPods)("%s: non-root, read-only root fs, no capabilities, RuntimeDefault seccomp", (_l, { deployment, container }) => {
    const pod = asRecord(dig(deployment, "spec", "template", "spec")) ?? {};
    const sc = asRecord(container.securityContext) ?? {};
    expect(sc.runAsNonRoot).toBe(true);
    expect(Number(sc.runAsUser ?? dig(pod, "securityContext", "runAsUser"))).toBeGreaterThan(0);
    expect(sc.readOnlyRootFilesystem).toBe(true);
    expect(sc.allowPrivilegeEscalation).toBe(false);
    expect(sc.privileged).not.toBe(true);
    expect(dig(sc, "capabilities", "drop")).toContain("ALL");
    expect(dig(sc, "capabilities", "add")).toBeUndefined();
    expect(dig(sc, "seccompProfile", "type") ?? dig(pod, "securityContext", "seccompProfile", "type")).toBe("RuntimeDefault");
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.hostNetwork).not.toBe(true);
  });

  it.each(meshraspPods)("%s: resource requests and limits", (_l, { container }) => {
    for (const kind of ["requests", "limits"]) {
      expect(dig(container, "resources", kind, "cpu"), kind).toBeDefined();
      expect(dig(container, "resources", kind, "memory"), kind).toBeDefined();
    }
  });

  it.each(meshraspPods)("%s: readiness /readyz and liveness /healthz on the admin port", (_l, { container }) => {
    const adminPort = portOf(argAfter(container, "--admin") ?? "0.0.0.0:9464");
    expect(dig(container, "readinessProbe", "httpGet", "path")).toBe("/readyz");
    expect(dig(container, "livenessProbe", "httpGet", "path")).toBe("/healthz");
    for (const probe of ["readinessProbe", "livenessProbe"]) {
      expect(containerPortNamed(container, dig(container, probe, "httpGet", "port")), probe).toBe(adminPort);
    }
  });

  it.each(meshraspPods)("%s: the policy ConfigMap mounted as a directory (no subPath) and passed with --policy", (_l, p) => {
    const { deployment, container, manifests } = p;
    expect(argAfter(container, "--policy")).toBe("/etc/meshrasp/policy.yaml");
    const mounts = Array.isArray(container.volumeMounts) ? container.volumeMounts : [];
    const mount = mounts.find((m) => dig(m, "mountPath") === "/etc/meshrasp");
    expect(mount).toBeDefined();
    expect(dig(mount, "subPath")).toBeUndefined();
    expect(dig(mount, "readOnly")).toBe(true);
    const volumes = dig(deployment, "spec", "template", "spec", "volumes");
    const volume = (Array.isArray(volumes) ? volumes : []).find((v) => dig(v, "name") === dig(mount, "name"));
    const configMapName = dig(volume, "configMap", "name");
    expect(configMapName).toBe("meshrasp-policy");
    const configMap = manifests.find(
      (m) => m.kind === "ConfigMap" && m.metadata.name === configMapName && m.metadata.namespace === deployment.metadata.namespace,
    );
    expect(dig(configMap, "data", "policy.yaml")).toBeDefined();
    expect(dig(volume, "configMap", "items")).toBeUndefined();
  });

  it.each(meshraspPods)("%s: a writable /tmp, since the root fs is read-only", (_l, { deployment, container }) => {
    const mounts = Array.isArray(container.volumeMounts) ? container.volumeMounts : [];
    const mount = mounts.find((m) => dig(m, "mountPath") === "/tmp");
    const volumes = dig(deployment, "spec", "template", "spec", "volumes");
    const volume = (Array.isArray(volumes) ? volumes : []).find((v) => dig(v, "name") === dig(mount, "name"));
    expect(dig(volume, "emptyDir")).toBeDefined();
  });

  it.each(meshraspPods)("%s: the image of this release", (_l, { container }) => {
    expect(container.image).toBe(`ghcr.io/meshrasp/meshrasp:${packageVersion}`);
  });

  it("per-pod mode listens for gRPC on loopback only, where only the pod's Envoy can reach it", () => {
    const perPod = meshraspPods.find(([label]) => label.startsWith("overlays/per-pod"));
    expect(perPod).toBeDefined();
    expect(argAfter(perPod?.[1].container ?? {}, "--grpc")).toMatch(/^127\.0\.0\.1:\d+$/);
  });
});

function selects(selector: unknown, labels: unknown): boolean {
  const wanted = asRecord(selector) ?? {};
  const have = asRecord(labels) ?? {};
  return Object.keys(wanted).length > 0 && Object.entries(wanted).every(([k, v]) => have[k] === v);
}

describe("the central pool fits together", () => {
  const base = rendered.get("base") ?? [];
  const find = (kind: string, name = "meshrasp") =>
    base.find((m) => m.kind === kind && m.metadata.name === name && m.metadata.namespace === "meshrasp-system");
  const deployment = find("Deployment");
  const podLabels = dig(deployment, "spec", "template", "metadata", "labels");
  const container = podContainers(deployment as Manifest).find((c) => c.name === "meshrasp") ?? {};
  const grpcPort = portOf(argAfter(container, "--grpc"));
  const adminPort = portOf(argAfter(container, "--admin"));

  it("the Deployment's selector matches its pods and the namespace has sidecar injection", () => {
    expect(selects(dig(deployment, "spec", "selector", "matchLabels"), podLabels)).toBe(true);
    expect(dig(find("Namespace", "meshrasp-system") ?? base.find((m) => m.kind === "Namespace"), "metadata", "labels", "istio-injection")).toBe(
      "enabled",
    );
    expect(grpcPort).toBe(50051);
    expect(adminPort).toBe(9464);
  });

  it("the Service selects the pods and exposes gRPC as gRPC", () => {
    const service = find("Service");
    expect(selects(dig(service, "spec", "selector"), podLabels)).toBe(true);
    const ports = dig(service, "spec", "ports") as unknown[];
    const grpc = ports.find((p) => dig(p, "name") === "grpc");
    expect(dig(grpc, "appProtocol")).toBe("grpc");
    expect(containerPortNamed(container, dig(grpc, "targetPort"))).toBe(grpcPort);
  });

  it("the PodDisruptionBudget and the autoscaler cover the Deployment, with at least two pods", () => {
    expect(selects(dig(find("PodDisruptionBudget"), "spec", "selector", "matchLabels"), podLabels)).toBe(true);
    const hpa = find("HorizontalPodAutoscaler");
    expect(dig(hpa, "spec", "scaleTargetRef")).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: "meshrasp" });
    expect(dig(hpa, "spec", "minReplicas")).toBeGreaterThanOrEqual(2);
    expect(dig(deployment, "spec", "replicas")).toBeGreaterThanOrEqual(2);
  });

  it("only mTLS peers (sidecars) may open ext_proc streams", () => {
    const peer = find("PeerAuthentication");
    expect(dig(peer, "spec", "mtls", "mode")).toBe("STRICT");
    expect(dig(peer, "spec", "portLevelMtls", String(grpcPort))).toBeUndefined();
    expect(selects(dig(peer, "spec", "selector", "matchLabels"), podLabels)).toBe(true);
    const authz = find("AuthorizationPolicy");
    expect(dig(authz, "spec", "action")).toBe("ALLOW");
    expect(selects(dig(authz, "spec", "selector", "matchLabels"), podLabels)).toBe(true);
    const rules = dig(authz, "spec", "rules") as unknown[];
    const grpcRules = rules.filter((r) => (dig(r, "to", 0, "operation", "ports") as unknown[]).includes(String(grpcPort)));
    expect(grpcRules.length).toBeGreaterThan(0);
    for (const rule of grpcRules) expect(dig(rule, "from", 0, "source", "principals")).toEqual(["*"]);
    for (const rule of rules.filter((r) => !grpcRules.includes(r))) {
      // Rules without a source must not open the gRPC port or the /policy endpoint.
      expect(dig(rule, "to", 0, "operation", "ports")).toEqual([String(adminPort)]);
      expect(dig(rule, "to", 0, "operation", "paths")).not.toContain("/policy");
    }
  });

  it("the NetworkPolicy admits gRPC and metrics scraping to the pods, and nothing else", () => {
    const policy = find("NetworkPolicy");
    expect(selects(dig(policy, "spec", "podSelector", "matchLabels"), podLabels)).toBe(true);
    const ports = (dig(policy, "spec", "ingress") as unknown[]).flatMap((rule) =>
      (dig(rule, "ports") as unknown[]).map((p) => dig(p, "port")),
    );
    expect(ports).toContain(grpcPort);
    expect(ports).toContain(adminPort);
    expect(ports.every((p) => [grpcPort, adminPort, 15090].includes(Number(p)))).toBe(true);
  });

  it("the ServiceMonitor scrapes the Service's admin port", () => {
    const monitor = find("ServiceMonitor");
    const service = find("Service");
    expect(selects(dig(monitor, "spec", "selector", "matchLabels"), dig(service, "metadata", "labels"))).toBe(true);
    const portName = dig(monitor, "spec", "endpoints", 0, "port");
    const servicePort = (dig(service, "spec", "ports") as unknown[]).find((p) => dig(p, "name") === portName);
    expect(containerPortNamed(container, dig(servicePort, "targetPort"))).toBe(adminPort);
    expect(dig(monitor, "spec", "endpoints", 0, "path")).toBe("/metrics");
  });
});

/** Parentheses, brackets and braces close in order (outside quoted strings). */
function balanced(expr: string): boolean {
  const stack: string[] = [];
  const pairs: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  let quote: string | undefined;
  for (const ch of expr) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if ("([{".includes(ch)) stack.push(ch);
    else if (ch in pairs && stack.pop() !== pairs[ch]) return false;
  }
  return stack.length === 0 && quote === undefined;
}

describe("alerts", () => {
  const rule = (rendered.get("base") ?? []).find((m) => m.kind === "PrometheusRule");
  const alerts = records(dig(rule, "spec", "groups")).flatMap((group) => records(group.rules));
  const byName = new Map(alerts.map((a) => [String(a.alert), a]));

  it("cover policy drift, reload failures, attack spikes, errors and timeouts, and fail-open", () => {
    expect(String(byName.get("MeshraspPolicyDrift")?.expr).trim()).toBe("count(count by (hash) (meshrasp_policy_info)) > 1");
    expect(String(byName.get("MeshraspPolicyReloadFailed")?.expr)).toContain('meshrasp_policy_reloads_total{result="error"}');
    expect(String(byName.get("MeshraspAttackSpike")?.expr)).toContain('meshrasp_decisions_total{action="deny"}');
    expect(String(byName.get("MeshraspStreamErrors")?.expr)).toContain("meshrasp_stream_errors_total");
    expect(String(byName.get("MeshraspSlowInspection")?.expr)).toContain("meshrasp_phase_duration_seconds_bucket");
    expect(String(byName.get("MeshraspFailOpen")?.expr)).toContain("meshrasp_fail_open_total");
  });

  it("wait out ConfigMap propagation before calling policy hashes drift", () => {
    const wait = /^(\d+)m$/.exec(String(byName.get("MeshraspPolicyDrift")?.for));
    expect(Number(wait?.[1])).toBeGreaterThanOrEqual(3);
  });

  it.each(alerts.map((a) => [String(a.alert), a] as const))("%s: known metrics, balanced, severity and summary", (_n, alert) => {
    const expr = String(alert.expr);
    expect(unknownMetrics(expr)).toEqual([]);
    expect(expr).toMatch(/meshrasp_/);
    expect(balanced(expr)).toBe(true);
    expect(dig(alert, "labels", "severity")).toMatch(/^(critical|warning|info)$/);
    expect(dig(alert, "annotations", "summary")).toBeTruthy();
  });

  it("the metric check catches a misspelt metric", () => {
    expect(unknownMetrics("rate(meshrasp_decision_total[5m])")).toEqual(["meshrasp_decision_total"]);
    expect(unknownMetrics("meshrasp_phase_duration_seconds_bucket + meshrasp_open_streams")).toEqual([]);
  });
});

describe("the Grafana dashboard", () => {
  const configMap = (rendered.get("base") ?? []).find(
    (m) => m.kind === "ConfigMap" && m.metadata.name === "meshrasp-grafana-dashboard",
  );
  const dashboard = JSON.parse(String(dig(configMap, "data", "meshrasp.json"))) as Record<string, unknown>;
  const panels = records(dashboard.panels);

  it("is labelled for Grafana's dashboard sidecar", () => {
    expect(configMap?.metadata.labels?.grafana_dashboard).toBe("1");
  });

  it("shows attacks over time, top rules and sources, latency, errors and policy drift", () => {
    const titles = panels.map((p) => String(p.title));
    for (const wanted of [/attacks over time/i, /top rules/i, /top sources/i, /latency/i, /errors/i, /policy drift/i]) {
      expect(titles.some((t) => wanted.test(t)), String(wanted)).toBe(true);
    }
    const drift = panels.find((p) => /policy drift/i.test(String(p.title)));
    expect(dig(drift, "targets", 0, "expr")).toBe("count(count by (hash) (meshrasp_policy_info))");
  });

  it("queries only metrics meshrasp exposes, through the data source variable", () => {
    const exprs = panels.flatMap((p) => (p.targets as unknown[]).map((t) => String(dig(t, "expr"))));
    expect(exprs.length).toBeGreaterThanOrEqual(panels.length);
    for (const expr of exprs) {
      expect(unknownMetrics(expr), expr).toEqual([]);
      expect(balanced(expr), expr).toBe(true);
    }
    const used = new Set(exprs.flatMap((e) => e.match(/\bmeshrasp_[a-z_]+/g) ?? []).map((n) => n.replace(/_bucket$/, "")));
    expect(meshraspMetrics.filter((m) => !used.has(m))).toEqual([]);
    for (const panel of panels) expect(dig(panel, "datasource", "uid"), String(panel.title)).toBe("${datasource}");
  });

  it("has unique panel ids and no overlapping panels", () => {
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const boxes = panels.map((p) => asRecord(p.gridPos) as { x: number; y: number; w: number; h: number });
    boxes.forEach((a, i) =>
      boxes.slice(i + 1).forEach((b) => {
        const overlap = a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
        expect(overlap).toBe(false);
      }),
    );
  });
});
