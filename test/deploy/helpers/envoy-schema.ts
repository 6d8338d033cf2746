/**
 * Strict decoding of Envoy configuration against Envoy's v3 protos, as Envoy itself parses YAML
 * config: proto3 JSON mapping, unknown fields rejected, enum names checked, every `typed_config`
 * `@type` resolved. The descriptors come from the same tree code generation uses (see
 * scripts/proto-tree.mjs): the grpc-js-xds snapshot with our newer ext_proc files laid over it.
 */
import { createFileRegistry, fromBinary, fromJson, toJson, type JsonValue } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import type { FileRegistry } from "@bufbuild/protobuf";
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { repoPath } from "./repo.js";

/** The type an EnvoyFilter patch value must decode as, by its `applyTo`. */
export const envoyFilterPatchTypes: Readonly<Record<string, string>> = {
  HTTP_FILTER: "envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter",
  CLUSTER: "envoy.config.cluster.v3.Cluster",
  LISTENER: "envoy.config.listener.v3.Listener",
};

/**
 * A registry of every Envoy, xds and udpa type, from the descriptor set `npm run protos` writes
 * (and CI checks is up to date).
 */
export function loadEnvoyRegistry(): FileRegistry {
  const bytes = gunzipSync(readFileSync(repoPath("protos/generated/envoy-descriptors.binpb.gz")));
  return createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
}

/**
 * Decodes `value` as the message `typeName` and returns it re-encoded as JSON with proto field
 * names and every default spelled out, i.e. what Envoy will actually use. Throws on anything
 * Envoy would reject when parsing the config.
 */
export function decodeEnvoy(registry: FileRegistry, typeName: string, value: unknown): JsonValue {
  const schema = registry.getMessage(typeName);
  if (schema === undefined) throw new Error(`unknown message type ${typeName}`);
  const message = fromJson(schema, value as JsonValue, { registry, ignoreUnknownFields: false });
  return toJson(schema, message, { registry, useProtoFieldName: true, alwaysEmitImplicit: true });
}
