#!/usr/bin/env node
// Regenerates protos/generated/ from Envoy's v3 API as shipped by @grpc/grpc-js-xds, with the
// files in protos/src/ laid over it (our own, newer descriptions of the ext_proc wire contract).
// The tool chain comes from npm only: buf (run with npm exec) compiles, ts-proto writes TypeScript.
// It also writes the descriptor set of Envoy's configuration API, against which the tests decode
// every Envoy config we ship. Output is deterministic: running this twice gives the same bytes.
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join, relative } from "node:path";
import { buildDescriptorSet, listFiles, root, runBuf, stageProtoTree } from "./proto-tree.mjs";

const out = join(root, "protos/generated");
/** Envoy's configuration API (with our newer ext_proc files), gzipped FileDescriptorSet. */
const DESCRIPTORS = "envoy-descriptors.binpb.gz";

// Entry points: everything they import is generated too, nothing else.
const entries = ["envoy/service/ext_proc/v3/external_processor.proto", "grpc/health/v1/health.proto"];

const tsProtoOptions = [
  "outputServices=grpc-js",
  "esModuleInterop=true",
  "env=node",
  "oneof=unions-value",
  "forceLong=string",
  "useOptionals=messages",
  "outputJsonMethods=false",
  "importSuffix=.js",
];

/**
 * ts-proto's decoders (env=node) copy every bytes field out of the message buffer. grpc-js builds
 * each message's buffer with Buffer.concat and never writes to it again (small ones share a slab
 * of Node's buffer pool, as the copies did), so a view is as safe and spares a copy of every body
 * chunk (64 KiB each when Envoy streams). The reader's `bytes()` is a subarray of
 * its input: a Buffer when grpc-js decodes, a Uint8Array when a test passes one, turned into a
 * Buffer view here either way.
 */
function viewDecodedBytes(file) {
  let source = readFileSync(file, "utf8");
  const copy = "Buffer.from(reader.bytes())";
  const empty = "Buffer.alloc(0)";
  const helpers = [];
  if (source.includes(copy)) {
    source = source.replaceAll(copy, "bytesView(reader.bytes())");
    helpers.push(
      "/** A Buffer over the reader's bytes, without copying them (added by scripts/generate-protos.mjs). */",
      "function bytesView(bytes: Uint8Array): Buffer {",
      "  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);",
      "}",
    );
  }
  // Every decoded header starts from a default with an empty raw_value: one shared empty Buffer
  // (it has no bytes to change) instead of a new one per header.
  if (source.includes(empty)) {
    source = source.replaceAll(empty, "EMPTY_BYTES");
    helpers.push("/** The default of every bytes field (added by scripts/generate-protos.mjs). */", "const EMPTY_BYTES = Buffer.alloc(0);");
  }
  if (helpers.length === 0) return;
  // After the imports, before the first export: defined before any code of the module runs.
  const at = source.indexOf("\nexport ");
  if (at < 0) throw new Error(`${file}: no export to put the helpers before`);
  writeFileSync(file, `${source.slice(0, at)}\n${helpers.join("\n")}\n${source.slice(at)}`);
}

const work = stageProtoTree();
try {
  writeFileSync(
    join(work, "buf.gen.yaml"),
    [
      "version: v2",
      "clean: true",
      "plugins:",
      `  - local: ${join(root, "node_modules/.bin/protoc-gen-ts_proto")}`,
      `    out: ${out}`,
      "    opt:",
      ...tsProtoOptions.map((o) => `      - ${o}`),
      "",
    ].join("\n"),
  );
  runBuf(["generate", ...entries.flatMap((e) => ["--path", join("tree", e)])], work);
  for (const file of listFiles(out)) viewDecodedBytes(file);
  writeFileSync(join(out, DESCRIPTORS), gzipSync(buildDescriptorSet(["envoy", "xds", "udpa"]), { level: 9 }));
  console.log(`generated ${listFiles(out).length} files in ${relative(root, out)}/`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
