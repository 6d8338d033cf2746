// Every Envoy config we ship decodes strictly against Envoy's v3 protos, and says what meshrasp
// needs: the processing mode it is written for, fail-closed, a usable timeout, an HTTP/2 cluster
// with raised circuit breakers, an explicit :authority, the identity metadata, and a buffer limit
// equal to the policy's maxBodyBytes.
import { readFileSync } from "node:fs";
import type { FileRegistry, JsonValue } from "@bufbuild/protobuf";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeEnvoy, envoyFilterPatchTypes, loadEnvoyRegistry } from "./helpers/envoy-schema.js";
import {
  expectedProcessingMode,
  extProcFilterName,
  extProcType,
  identityKeys,
  metadataNamespace,
} from "./helpers/expectations.js";
import { envoyFilterPatches, isDeployable, objectName, renderIstio, type EnvoyFilterPatch, type Manifest } from "./helpers/manifests.js";
import { asRecord, dig, parseYaml, readYaml, records, repoPath } from "./helpers/repo.js";

const envoyYaml = readYaml(repoPath("envoy/envoy.yaml"));
const composePolicy = readYaml(repoPath("envoy/policy/policy.yaml"));
const rendered = renderIstio();
const allPatches: { kustomization: string; patch: EnvoyFilterPatch }[] = [...rendered].flatMap(([kustomization, manifests]) =>
  envoyFilterPatches(manifests).map((patch) => ({ kustomization, patch })),
);

let registry: FileRegistry;
beforeAll(() => {
  registry = loadEnvoyRegistry();
});

const bootstrapType = "envoy.config.bootstrap.v3.Bootstrap";

function patchLabel({ kustomization, patch }: { kustomization: string; patch: EnvoyFilterPatch }): string {
  return `${kustomization}: ${objectName(patch.filter)} patch ${patch.index} (${patch.applyTo} ${patch.operation})`;
}

function decodePatch(patch: EnvoyFilterPatch): JsonValue {
  const typeName = envoyFilterPatchTypes[patch.applyTo];
  if (typeName === undefined) throw new Error(`no Envoy message type known for applyTo ${patch.applyTo}`);
  return decodeEnvoy(registry, typeName, patch.value);
}

describe("strict decoding against Envoy's v3 API", () => {
  it("envoy/envoy.yaml is a valid v3 Bootstrap", () => {
    expect(() => decodeEnvoy(registry, bootstrapType, envoyYaml)).not.toThrow();
  });

  it("istio/ holds EnvoyFilter patches to check", () => {
    expect(allPatches.length).toBeGreaterThan(0);
  });

  it.each(allPatches.map((entry) => [patchLabel(entry), entry] as const))("%s decodes", (_label, { patch }) => {
    expect(() => decodePatch(patch)).not.toThrow();
  });

  const valid = {
    name: extProcFilterName,
    typed_config: {
      "@type": extProcType,
      grpc_service: { envoy_grpc: { cluster_name: "meshrasp", authority: "meshrasp" } },
      processing_mode: { request_body_mode: "BUFFERED" },
      // Newer than the grpc-js-xds snapshot: accepted only because our own ext_proc.proto is used.
      status_on_error: { code: 503 },
      allowed_override_modes: [{ request_body_mode: "NONE" }],
      metadata_options: { cluster_metadata_forwarding_namespaces: { untyped: ["meshrasp"] } },
    },
  };
  const httpFilter = envoyFilterPatchTypes.HTTP_FILTER as string;
  const withConfig = (change: Record<string, unknown>) => ({ ...valid, typed_config: { ...valid.typed_config, ...change } });

  it("accepts a filter config that uses fields newer than the proto snapshot", () => {
    expect(() => decodeEnvoy(registry, httpFilter, valid)).not.toThrow();
  });

  it("rejects an unknown field", () => {
    expect(() => decodeEnvoy(registry, httpFilter, withConfig({ failure_mode_allows: false }))).toThrow(/failure_mode_allows/);
  });

  it("rejects a field Envoy removed (reserved async_mode)", () => {
    expect(() => decodeEnvoy(registry, httpFilter, withConfig({ async_mode: true }))).toThrow(/async_mode/);
  });

  it("rejects a bad enum name", () => {
    expect(() => decodeEnvoy(registry, httpFilter, withConfig({ processing_mode: { request_body_mode: "BUFFER" } }))).toThrow(
      /BUFFER/,
    );
  });

  it("rejects a wrong value type", () => {
    expect(() => decodeEnvoy(registry, httpFilter, withConfig({ message_timeout: 0.5 }))).toThrow(/Duration/);
  });

  it("rejects an unknown @type", () => {
    const unknownType = { ...valid, typed_config: { ...valid.typed_config, "@type": `${extProcType}Typo` } };
    expect(() => decodeEnvoy(registry, httpFilter, unknownType)).toThrow(/ExternalProcessorTypo/);
  });

  it("rejects a patch whose applyTo has no known message type", () => {
    const [first] = allPatches;
    expect(first).toBeDefined();
    const patch = { ...(first as (typeof allPatches)[number]).patch, applyTo: "NETWORK_FILTERZ" };
    expect(() => decodePatch(patch)).toThrow(/NETWORK_FILTERZ/);
  });
});

/** One ext_proc filter config we ship, where it is, and the clusters visible next to it. */
interface ExtProcSite {
  label: string;
  config: Record<string, unknown>;
  clusters: Record<string, unknown>[];
  filter?: Manifest;
  manifests?: Manifest[];
}

function extProcSites(): ExtProcSite[] {
  const bootstrap = decodeEnvoy(registry, bootstrapType, envoyYaml);
  const sites: ExtProcSite[] = [];
  const clusters = dig(bootstrap, "static_resources", "clusters");
  const listeners = dig(bootstrap, "static_resources", "listeners");
  for (const listener of Array.isArray(listeners) ? listeners : []) {
    for (const hcm of networkFilters(listener)) {
      const filters = dig(hcm, "typed_config", "http_filters");
      for (const filter of Array.isArray(filters) ? filters : []) {
        if (dig(filter, "name") !== extProcFilterName) continue;
        sites.push({
          label: "envoy/envoy.yaml",
          config: asRecord(dig(filter, "typed_config")) ?? {},
          clusters: records(clusters),
        });
      }
    }
  }
  for (const entry of allPatches) {
    const { patch } = entry;
    if (!isDeployable(entry.kustomization)) continue;
    if (patch.applyTo !== "HTTP_FILTER" || patch.operation === "MERGE") continue;
    const decoded = decodePatch(patch);
    if (dig(decoded, "name") !== extProcFilterName) continue;
    const added = allPatches
      .filter((other) => other.kustomization === entry.kustomization && other.patch.filter === patch.filter)
      .filter((other) => other.patch.applyTo === "CLUSTER" && other.patch.operation === "ADD")
      .map((other) => asRecord(decodePatch(other.patch)) ?? {});
    sites.push({
      label: patchLabel(entry),
      config: asRecord(dig(decoded, "typed_config")) ?? {},
      clusters: added,
      filter: patch.filter,
      manifests: rendered.get(entry.kustomization) ?? [],
    });
  }
  return sites;
}

function networkFilters(listener: unknown): unknown[] {
  const chains = dig(listener, "filter_chains");
  return (Array.isArray(chains) ? chains : []).flatMap((chain) => {
    const filters = dig(chain, "filters");
    return (Array.isArray(filters) ? filters : []).filter(
      (f) => dig(f, "name") === "envoy.filters.network.http_connection_manager",
    );
  });
}

function durationSeconds(value: unknown): number {
  const match = typeof value === "string" ? /^(\d+(?:\.\d+)?)s$/.exec(value) : null;
  return match ? Number(match[1]) : Number.NaN;
}

function policyMaxBodyBytes(policy: unknown): unknown {
  return dig(policy, "spec", "limits", "maxBodyBytes");
}

describe("what meshrasp needs from every ext_proc filter config", () => {
  it("finds the filter in envoy.yaml and in the EnvoyFilters", () => {
    const labels = extProcSites().map((site) => site.label);
    expect(labels).toContain("envoy/envoy.yaml");
    const deployables = [...rendered.keys()].filter(isDeployable);
    expect(deployables).toEqual(
      expect.arrayContaining(["base", "overlays/per-pod", "overlays/streamed-response", "overlays/fail-open"]),
    );
    for (const kustomization of deployables) {
      expect(labels.filter((label) => label.startsWith(`${kustomization}:`)), kustomization).toHaveLength(1);
    }
  });

  it("uses the expected processing mode, fails closed, and lets meshrasp override modes", () => {
    for (const site of extProcSites()) {
      expect(site.config["@type"], site.label).toBe(extProcType);
      expect(site.config.processing_mode, site.label).toEqual(expectedProcessingMode);
      expect(site.config.failure_mode_allow, site.label).toBe(false);
      expect(site.config.allow_mode_override, site.label).toBe(true);
      expect(site.config.observability_mode, site.label).toBe(false);
    }
  });

  it("waits 0.5 s per message (not Envoy's 200 ms) and caps overrides", () => {
    for (const site of extProcSites()) {
      expect(durationSeconds(site.config.message_timeout), site.label).toBe(0.5);
      expect(durationSeconds(site.config.max_message_timeout), site.label).toBeGreaterThan(0.5);
    }
  });

  it("accepts meshrasp's dynamic metadata namespace", () => {
    for (const site of extProcSites()) {
      expect(dig(site.config, "metadata_options", "receiving_namespaces", "untyped"), site.label).toContain(metadataNamespace);
    }
  });

  it("always sets a plain host name as :authority", () => {
    for (const site of extProcSites()) {
      const authority = dig(site.config, "grpc_service", "envoy_grpc", "authority");
      expect(authority, site.label).toMatch(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/);
    }
  });

  it("names the workload and namespace each stream serves", () => {
    for (const site of extProcSites()) {
      const metadata = dig(site.config, "grpc_service", "initial_metadata");
      const values = new Map((Array.isArray(metadata) ? metadata : []).map((h) => [dig(h, "key"), dig(h, "value")]));
      const workload = values.get(identityKeys.workload);
      const namespace = values.get(identityKeys.namespace);
      expect(workload, site.label).toMatch(/^[a-z0-9][a-z0-9.-]*$/);
      expect(namespace, site.label).toMatch(/^[a-z0-9][a-z0-9-]*$/);
      if (site.filter !== undefined) {
        // A wrong name would file this workload's events and metrics under another one.
        expect(namespace, site.label).toBe(site.filter.metadata.namespace);
        const selected = dig(site.filter, "spec", "workloadSelector", "labels", "app");
        if (selected !== undefined) expect(workload, site.label).toBe(selected);
      }
    }
  });

  it("reaches meshrasp over an HTTP/2 cluster with raised circuit breakers", () => {
    for (const site of extProcSites()) {
      const clusterName = dig(site.config, "grpc_service", "envoy_grpc", "cluster_name");
      expect(typeof clusterName, site.label).toBe("string");
      const istio = /^outbound\|(\d+)\|\|([a-z0-9.-]+)$/.exec(String(clusterName));
      if (istio !== null) {
        checkIstioCluster(site, Number(istio[1]), istio[2] as string);
        continue;
      }
      const cluster = site.clusters.find((c) => c.name === clusterName);
      expect(cluster, `${site.label}: cluster ${String(clusterName)} is defined next to the filter`).toBeDefined();
      const options = dig(
        cluster,
        "typed_extension_protocol_options",
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
        "explicit_http_config",
        "http2_protocol_options",
      );
      expect(options, `${site.label}: HTTP/2 to meshrasp`).toBeDefined();
      const thresholds = dig(cluster, "circuit_breakers", "thresholds");
      expect(Array.isArray(thresholds) && thresholds.length > 0, site.label).toBe(true);
      for (const t of Array.isArray(thresholds) ? thresholds : []) {
        expect(dig(t, "max_requests"), site.label).toBeGreaterThanOrEqual(10_000);
        expect(dig(t, "max_pending_requests"), site.label).toBeGreaterThanOrEqual(10_000);
      }
    }
  });

  function checkIstioCluster(site: ExtProcSite, port: number, host: string): void {
    // Istio's cluster for a Service: the Service must exist, be gRPC on that port, and the
    // authority must be its DNS name (the cluster name itself has '|').
    expect(dig(site.config, "grpc_service", "envoy_grpc", "authority"), site.label).toBe(host);
    const [name, namespace] = host.split(".");
    const manifests = site.manifests ?? [];
    const service = manifests.find(
      (m) => m.kind === "Service" && m.metadata.name === name && m.metadata.namespace === namespace,
    );
    expect(service, `${site.label}: Service ${host}`).toBeDefined();
    const ports = dig(service, "spec", "ports");
    const servicePort = (Array.isArray(ports) ? ports : []).find((p) => dig(p, "port") === port);
    expect(dig(servicePort, "name"), site.label).toBe("grpc");
    expect(dig(servicePort, "appProtocol"), site.label).toBe("grpc");
    const rule = manifests.find((m) => m.kind === "DestinationRule" && dig(m, "spec", "host") === host);
    expect(dig(rule, "spec", "trafficPolicy", "connectionPool", "http", "http2MaxRequests"), site.label).toBeGreaterThanOrEqual(
      10_000,
    );
  }

  it("buffers exactly the policy's maxBodyBytes: envoy.yaml", () => {
    const bootstrap = decodeEnvoy(registry, bootstrapType, envoyYaml);
    const listeners = dig(bootstrap, "static_resources", "listeners");
    expect(Array.isArray(listeners) && listeners.length > 0).toBe(true);
    for (const listener of Array.isArray(listeners) ? listeners : []) {
      expect(dig(listener, "per_connection_buffer_limit_bytes")).toBe(policyMaxBodyBytes(composePolicy));
    }
  });

  it("buffers exactly the policy's maxBodyBytes: every sidecar that gets the filter", () => {
    for (const site of extProcSites()) {
      if (site.filter === undefined) continue;
      const configMap = (site.manifests ?? []).find(
        (m) => m.kind === "ConfigMap" && m.metadata.name === "meshrasp-policy",
      );
      const policyText = dig(configMap, "data", "policy.yaml");
      expect(typeof policyText, site.label).toBe("string");
      const maxBodyBytes = policyMaxBodyBytes(parseYaml(String(policyText)));
      const listenerPatches = allPatches.filter(
        ({ patch }) => patch.filter === site.filter && patch.applyTo === "LISTENER" && patch.operation === "MERGE",
      );
      expect(listenerPatches, site.label).toHaveLength(1);
      for (const { patch } of listenerPatches) {
        expect(dig(decodePatch(patch), "per_connection_buffer_limit_bytes"), site.label).toBe(maxBodyBytes);
        expect(dig(patch.match, "context"), site.label).toBe("SIDECAR_INBOUND");
      }
    }
  });
});

describe("Istio sidecars of older Istio releases", () => {
  // Istio's Envoy follows the Istio release; a field a sidecar does not know makes it reject the
  // whole listener update. The grpc-js-xds snapshot is the Envoy 1.33 API.
  const snapshotProto = readFileSync(
    repoPath("node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/extensions/filters/http/ext_proc/v3/ext_proc.proto"),
    "utf8",
  );
  const body = /^message ExternalProcessor \{([\s\S]*?)^\}/m.exec(snapshotProto)?.[1] ?? "";
  const snapshotFields = new Set([...body.matchAll(/^\s+(?:repeated\s+)?[\w.]+\s+(\w+)\s*=\s*\d+/gm)].map((m) => m[1]));

  it("the snapshot's filter config is readable here", () => {
    expect(snapshotFields).toContain("message_timeout");
    expect(snapshotFields).not.toContain("status_on_error");
  });

  it("EnvoyFilters use only filter config fields the Envoy 1.33 API has", () => {
    const used = allPatches
      .filter(({ patch }) => patch.applyTo === "HTTP_FILTER")
      .flatMap(({ patch }) => Object.keys(asRecord(dig(patch.value, "typed_config")) ?? {}))
      .filter((key) => key !== "@type");
    expect(used.length).toBeGreaterThan(0);
    expect(used.filter((key) => !snapshotFields.has(key))).toEqual([]);
  });
});

describe("envoy/envoy.yaml", () => {
  it("runs ext_proc before the router, and the router last", () => {
    const [hcm] = networkFilters(dig(envoyYaml, "static_resources", "listeners", 0));
    const names = (dig(hcm, "typed_config", "http_filters") as unknown[]).map((f) => dig(f, "name"));
    expect(names.indexOf(extProcFilterName)).toBeGreaterThanOrEqual(0);
    expect(names.at(-1)).toBe("envoy.filters.http.router");
    expect(names.indexOf(extProcFilterName)).toBeLessThan(names.indexOf("envoy.filters.http.router"));
  });

  it("keys per-route ext_proc config by the filter's name, and streams response bodies only there", () => {
    const bootstrap = decodeEnvoy(registry, bootstrapType, envoyYaml);
    const [hcm] = networkFilters(dig(bootstrap, "static_resources", "listeners", 0));
    const hosts = dig(hcm, "typed_config", "route_config", "virtual_hosts");
    const routes = (Array.isArray(hosts) ? hosts : []).flatMap((h) => dig(h, "routes") as unknown[]);
    const perRoute = routes.flatMap((r) => Object.entries(asRecord(dig(r, "typed_per_filter_config")) ?? {}));
    expect(perRoute.length).toBeGreaterThan(0);
    for (const [key, config] of perRoute) {
      expect(key).toBe(extProcFilterName);
      expect(dig(config, "overrides", "processing_mode", "response_body_mode")).toBe("STREAMED");
      expect(dig(config, "overrides", "processing_mode", "request_body_mode")).toBe("BUFFERED");
    }
  });
});

describe("Istio overlays that adjust the base filter", () => {
  const merges = allPatches.filter(({ patch }) => patch.applyTo === "HTTP_FILTER" && patch.operation === "MERGE");

  it("exist for streamed response bodies and for failing open", () => {
    const overlays = new Set(merges.map(({ kustomization }) => kustomization));
    expect(overlays).toContain("overlays/streamed-response");
    expect(overlays).toContain("overlays/fail-open");
  });

  it.each(merges.map((entry) => [patchLabel(entry), entry] as const))(
    "%s targets the base ext_proc filter of the same workload, after it",
    (_label, { kustomization, patch }) => {
      expect(dig(patch.match, "listener", "filterChain", "filter", "subFilter", "name")).toBe(extProcFilterName);
      expect(dig(patch.value, "typed_config", "@type")).toBe(extProcType);
      const inserting = allPatches.filter(
        (other) =>
          other.kustomization === kustomization &&
          other.patch.applyTo === "HTTP_FILTER" &&
          other.patch.operation === "INSERT_BEFORE" &&
          other.patch.filter.metadata.namespace === patch.filter.metadata.namespace &&
          JSON.stringify(dig(other.patch.filter, "spec", "workloadSelector")) ===
            JSON.stringify(dig(patch.filter, "spec", "workloadSelector")),
      );
      expect(inserting).toHaveLength(1);
      const basePriority = Number(dig(inserting[0]?.patch.filter, "spec", "priority") ?? 0);
      expect(Number(dig(patch.filter, "spec", "priority") ?? 0)).toBeGreaterThan(basePriority);
    },
  );

  it("switch exactly what they say", () => {
    const overlay = (name: string) =>
      merges.filter(({ kustomization }) => kustomization === name).map(({ patch }) => decodePatch(patch));
    const streamed = overlay("overlays/streamed-response");
    expect(streamed.map((v) => dig(v, "typed_config", "processing_mode", "response_body_mode"))).toEqual(["STREAMED"]);
    const failOpen = overlay("overlays/fail-open");
    expect(failOpen.map((v) => dig(v, "typed_config", "failure_mode_allow"))).toEqual([true]);
  });
});
