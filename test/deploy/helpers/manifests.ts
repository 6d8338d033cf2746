/** Rendering of everything under istio/, and schema validation of each rendered object. */
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { Deployment } from "kubernetes-models/apps/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap, Namespace, Service, ServiceAccount } from "kubernetes-models/v1";
import { DestinationRule } from "@kubernetes-models/istio/networking.istio.io/v1";
import { EnvoyFilter } from "@kubernetes-models/istio/networking.istio.io/v1alpha3";
import { AuthorizationPolicy, PeerAuthentication } from "@kubernetes-models/istio/security.istio.io/v1";
import { PrometheusRule, ServiceMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { findKustomizations, renderKustomization, type Manifest } from "./kustomize.js";
import { dig, records, repoPath } from "./repo.js";

export type { Manifest };

/** The model class (and so the schema) for each apiVersion/kind we ship. Others are refused. */
const models: Readonly<Record<string, new (data: never) => { validate(): void }>> = {
  "v1/Namespace": Namespace,
  "v1/ServiceAccount": ServiceAccount,
  "v1/ConfigMap": ConfigMap,
  "v1/Service": Service,
  "apps/v1/Deployment": Deployment,
  "policy/v1/PodDisruptionBudget": PodDisruptionBudget,
  "autoscaling/v2/HorizontalPodAutoscaler": HorizontalPodAutoscaler,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy,
  "networking.istio.io/v1/DestinationRule": DestinationRule,
  "networking.istio.io/v1alpha3/EnvoyFilter": EnvoyFilter,
  "security.istio.io/v1/PeerAuthentication": PeerAuthentication,
  "security.istio.io/v1/AuthorizationPolicy": AuthorizationPolicy,
  "monitoring.coreos.com/v1/ServiceMonitor": ServiceMonitor,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule,
};

/** Validates one object against its Kubernetes/Istio/prometheus-operator schema; throws if invalid. */
export function validateManifest(m: Manifest): void {
  const Model = models[`${m.apiVersion}/${m.kind}`];
  if (Model === undefined) throw new Error(`no schema known for ${m.apiVersion} ${m.kind} (${m.metadata.name})`);
  new Model(structuredClone(m) as never).validate();
}

/** Every kustomization under istio/, rendered: folder relative to istio/ -> objects. */
export function renderIstio(): Map<string, Manifest[]> {
  const root = repoPath("istio");
  return new Map(findKustomizations(root).map((dir) => [dir, renderKustomization(repoPath("istio", dir))]));
}

/**
 * Kustomizations meant to be applied as they are: the base and each overlay. The others
 * (policy, base/server, base/workload) are parts of those and are only checked as parts.
 */
export function isDeployable(kustomization: string): boolean {
  return kustomization === "base" || kustomization.startsWith("overlays/");
}

/** `namespace/name` of an object. */
export function objectName(m: Manifest): string {
  return `${m.metadata.namespace ?? "(no namespace)"}/${m.metadata.name}`;
}

/** One EnvoyFilter config patch, with where it came from. */
export interface EnvoyFilterPatch {
  filter: Manifest;
  index: number;
  applyTo: string;
  operation: string;
  value: unknown;
  match: unknown;
}

/** The config patches of every EnvoyFilter among `manifests`. */
export function envoyFilterPatches(manifests: Manifest[]): EnvoyFilterPatch[] {
  return manifests
    .filter((m) => m.kind === "EnvoyFilter")
    .flatMap((filter) => {
      const patches = dig(filter, "spec", "configPatches");
      if (!Array.isArray(patches)) return [];
      return patches.map((patch: unknown, index) => ({
        filter,
        index,
        applyTo: String(dig(patch, "applyTo")),
        operation: String(dig(patch, "patch", "operation")),
        value: dig(patch, "patch", "value"),
        match: dig(patch, "match"),
      }));
    });
}

/** The containers of a workload's pod template. */
export function podContainers(m: Manifest): Record<string, unknown>[] {
  return records(dig(m, "spec", "template", "spec", "containers"));
}
