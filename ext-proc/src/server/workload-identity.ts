/**
 * Which workload (and namespace) a stream serves, from what Envoy can send:
 *  1. gRPC metadata set per sidecar in the filter's `grpc_service.initial_metadata`
 *     (`x-meshrasp-workload`, `x-meshrasp-namespace`) — explicit, preferred;
 *  2. the `xds.node` request attribute (`request_attributes: ["xds.node"]`), which Envoy sends as the
 *     text rendering of its Node message: Istio puts WORKLOAD_NAME and NAMESPACE in the node
 *     metadata and `<workload>.<namespace>` in the node cluster;
 *  3. the request's host (`:authority`), the fallback.
 */
import type { Metadata } from "@grpc/grpc-js";

export type IdentitySource = "metadata" | "xds.node" | "authority" | "unknown";

export interface WorkloadIdentity {
  readonly workload: string;
  readonly namespace: string;
  readonly source: IdentitySource;
}

const WORKLOAD_HEADER = "x-meshrasp-workload";
const NAMESPACE_HEADER = "x-meshrasp-namespace";
/** The key under which Envoy's ext_proc filter sends request attributes. */
export const ATTRIBUTES_KEY = "envoy.filters.http.ext_proc";
const UNKNOWN = "unknown";
/** Kubernetes names are at most 253 characters; anything longer is not a name. */
const MAX_NAME = 253;
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function validName(value: string | undefined): string | undefined {
  return value !== undefined && value.length <= MAX_NAME && NAME.test(value) ? value : undefined;
}

export interface PartialIdentity {
  readonly workload?: string | undefined;
  readonly namespace?: string | undefined;
}

export function identityFromMetadata(metadata: Metadata): PartialIdentity {
  const text = (key: string): string | undefined => {
    const value = metadata.get(key)[0];
    return typeof value === "string" ? validName(value.toLowerCase()) : undefined;
  };
  return { workload: text(WORKLOAD_HEADER), namespace: text(NAMESPACE_HEADER) };
}

/** A string field of the node metadata in protobuf text format: key: "NAME" value { string_value: "x" }. */
function nodeMetadataField(node: string, key: string): string | undefined {
  const marker = `key: "${key}"`;
  const at = node.indexOf(marker);
  if (at === -1) return undefined;
  const after = node.slice(at + marker.length, at + marker.length + 400);
  const match = /^\s*value\s*\{\s*string_value:\s*"([^"\\]{1,253})"/.exec(after);
  return validName(match?.[1]);
}

/** Reads the `xds.node` attribute, if Envoy was configured to send it. */
export function identityFromAttributes(attributes: Record<string, { [key: string]: unknown } | undefined>): PartialIdentity {
  const node = attributes[ATTRIBUTES_KEY]?.["xds.node"];
  if (typeof node !== "string" || node.length === 0) return {};
  const bounded = node.slice(0, 64 * 1024);
  let workload = nodeMetadataField(bounded, "WORKLOAD_NAME");
  let namespace = nodeMetadataField(bounded, "NAMESPACE");
  if (workload === undefined || namespace === undefined) {
    // Istio's node cluster is "<workload>.<namespace>".
    const cluster = /(?:^|\s)cluster:\s*"([^"\\]{1,300})"/.exec(bounded)?.[1];
    const dot = cluster?.lastIndexOf(".") ?? -1;
    if (cluster !== undefined && dot > 0) {
      workload ??= validName(cluster.slice(0, dot));
      namespace ??= validName(cluster.slice(dot + 1));
    }
  }
  return { workload, namespace };
}

/** Combines the sources in order of trust; the host is used only when nothing better exists. */
export function resolveIdentity(fromMetadata: PartialIdentity, fromAttributes: PartialIdentity, host: string): WorkloadIdentity {
  if (fromMetadata.workload !== undefined) {
    return { workload: fromMetadata.workload, namespace: fromMetadata.namespace ?? fromAttributes.namespace ?? UNKNOWN, source: "metadata" };
  }
  if (fromAttributes.workload !== undefined) {
    return { workload: fromAttributes.workload, namespace: fromMetadata.namespace ?? fromAttributes.namespace ?? UNKNOWN, source: "xds.node" };
  }
  const namespace = fromMetadata.namespace ?? fromAttributes.namespace ?? UNKNOWN;
  const name = validName(host);
  return name === undefined ? { workload: UNKNOWN, namespace, source: "unknown" } : { workload: name, namespace, source: "authority" };
}
