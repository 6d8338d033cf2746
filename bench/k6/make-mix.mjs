#!/usr/bin/env node
// Samples labelled requests from corpus files (JSON Lines, optionally gzipped) into the mix the
// k6 scripts replay: k6 cannot read gzip, and the corpora stay outside the repository.
// Usage: node bench/k6/make-mix.mjs [--attacks N] [--benign N] [--out FILE] CORPUS.jsonl[.gz]...
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  options: { attacks: { type: "string", default: "500" }, benign: { type: "string", default: "500" }, out: { type: "string", default: "bench/k6/mix.json" } },
  allowPositionals: true,
});
if (positionals.length === 0) {
  process.stderr.write("make-mix: name at least one corpus file (e.g. ../shared/corpus/openappsec-malicious.jsonl.gz)\n");
  process.exit(2);
}

/** Deterministic sampling (no Math.random): the same files give the same mix. */
function sample(records, count) {
  if (records.length <= count) return records;
  const step = records.length / count;
  return Array.from({ length: count }, (_, i) => records[Math.floor(i * step)]);
}

const records = positionals.flatMap((file) => {
  const bytes = readFileSync(file);
  const text = (file.endsWith(".gz") ? gunzipSync(bytes) : bytes).toString("utf8");
  return text.split("\n").filter(Boolean).map((line) => JSON.parse(line));
});
const toRequest = (r) => ({
  id: r.id,
  label: r.label,
  method: r.method,
  uri: r.uri,
  headers: Object.fromEntries(Object.entries(r.headers ?? {}).filter(([k]) => !["host", "content-length", "connection", "transfer-encoding"].includes(k.toLowerCase()))),
  // latin1 records: characters U+0080-U+00FF stand for raw bytes; k6 sends strings as UTF-8, so
  // such bodies are sent base64-encoded and decoded by the script.
  body: r.body ? Buffer.from(r.body, r.encoding === "latin1" ? "latin1" : "utf8").toString("base64") : "",
});
const mix = [
  ...sample(records.filter((r) => r.label === "attack"), Number(values.attacks)),
  ...sample(records.filter((r) => r.label === "benign"), Number(values.benign)),
].map(toRequest);
writeFileSync(values.out, JSON.stringify(mix));
process.stdout.write(`make-mix: ${mix.length} requests (${mix.filter((r) => r.label === "attack").length} attacks) -> ${values.out}\n`);
