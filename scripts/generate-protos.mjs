#!/usr/bin/env node
// Regenerates protos/generated/ from Envoy's v3 API as shipped by @grpc/grpc-js-xds, with the
// files in protos/src/ laid over it (our own, newer descriptions of the ext_proc wire contract).
// The tool chain comes from npm only: @bufbuild/buf compiles, ts-proto writes TypeScript.
// Output is deterministic: running this twice gives the same bytes.
import { rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join, relative } from "node:path";
import { buf, listFiles, root, stageProtoTree } from "./proto-tree.mjs";

const out = join(root, "protos/generated");

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
  execFileSync(buf, ["generate", ...entries.flatMap((e) => ["--path", join("tree", e)])], {
    cwd: work,
    stdio: "inherit",
  });
  console.log(`generated ${listFiles(out).length} files in ${relative(root, out)}/`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
