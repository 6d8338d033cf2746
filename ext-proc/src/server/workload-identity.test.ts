import { Metadata } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { ATTRIBUTES_KEY, identityFromAttributes, identityFromMetadata, resolveIdentity } from "./workload-identity.js";

/** How Envoy renders an Istio sidecar's Node message as an attribute string (protobuf text format). */
const ISTIO_NODE =
  'id: "sidecar~10.42.0.17~checkout-7d9f8-x2x.shop~shop.svc.cluster.local" cluster: "checkout.shop" ' +
  'metadata { fields { key: "NAMESPACE" value { string_value: "shop" } } ' +
  'fields { key: "WORKLOAD_NAME" value { string_value: "checkout" } } }';

function metadata(entries: Record<string, string>): Metadata {
  const md = new Metadata();
  for (const [k, v] of Object.entries(entries)) md.set(k, v);
  return md;
}

describe("workload identity", () => {
  it("reads initial_metadata set per sidecar", () => {
    expect(identityFromMetadata(metadata({ "x-meshrasp-workload": "checkout", "x-meshrasp-namespace": "shop" }))).toEqual({
      workload: "checkout",
      namespace: "shop",
    });
  });

  it("ignores values that are not Kubernetes names", () => {
    expect(identityFromMetadata(metadata({ "x-meshrasp-workload": "a b/../c" })).workload).toBeUndefined();
  });

  it("reads WORKLOAD_NAME and NAMESPACE from the xds.node attribute", () => {
    expect(identityFromAttributes({ [ATTRIBUTES_KEY]: { "xds.node": ISTIO_NODE } })).toEqual({ workload: "checkout", namespace: "shop" });
  });

  it("falls back to the node cluster <workload>.<namespace>", () => {
    expect(identityFromAttributes({ [ATTRIBUTES_KEY]: { "xds.node": 'id: "x" cluster: "payments.billing"' } })).toEqual({
      workload: "payments",
      namespace: "billing",
    });
  });

  it("gives nothing when the attribute is absent", () => {
    expect(identityFromAttributes({})).toEqual({});
  });

  it("prefers metadata, then xds.node, then the host", () => {
    const fromNode = { workload: "checkout", namespace: "shop" };
    expect(resolveIdentity({ workload: "cart", namespace: "shop" }, fromNode, "h.example")).toEqual({ workload: "cart", namespace: "shop", source: "metadata" });
    expect(resolveIdentity({}, fromNode, "h.example")).toEqual({ workload: "checkout", namespace: "shop", source: "xds.node" });
    expect(resolveIdentity({}, {}, "h.example")).toEqual({ workload: "h.example", namespace: "unknown", source: "authority" });
    expect(resolveIdentity({}, {}, "")).toEqual({ workload: "unknown", namespace: "unknown", source: "unknown" });
  });
});
