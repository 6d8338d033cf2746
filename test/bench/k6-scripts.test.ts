/**
 * The k6 load tests cannot run here (no k6, no Envoy), so what can be checked is checked: the
 * scripts parse, declare thresholds, load protos from paths that exist, and the mix generator
 * turns corpus records into the requests the HTTP script replays.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";

const K6 = resolve(import.meta.dirname, "../../bench/k6");
const scripts = ["http-through-envoy.js", "grpc-ext-proc.js"];

describe("k6 scripts", () => {
  it.each(scripts)("%s is valid JavaScript and sets thresholds", (script) => {
    const path = join(K6, script);
    expect(() => execFileSync(process.execPath, ["--check", path], { stdio: "pipe" })).not.toThrow();
    const text = readFileSync(path, "utf8");
    expect(text).toMatch(/export const options = \{[\s\S]*thresholds: \{/);
    expect(text).toMatch(/export default function/);
  });

  it("loads the ext_proc protos from directories that exist", () => {
    const text = readFileSync(join(K6, "grpc-ext-proc.js"), "utf8");
    const deps = /const DEPS = "([^"]+)"/.exec(text)?.[1] ?? "";
    const dirs = [...(/client\.load\(\s*\[([^\]]+)\]/.exec(text)?.[1] ?? "").matchAll(/["`]([^"`]+)["`]/g)].map((m) => m[1]!.replace("${DEPS}", deps));
    expect(dirs.length).toBe(5);
    for (const dir of dirs) expect(existsSync(resolve(K6, dir)), dir).toBe(true);
    expect(existsSync(resolve(K6, "../../protos/src/envoy/service/ext_proc/v3/external_processor.proto"))).toBe(true);
  });

  it("make-mix samples attacks and benign requests, keeping raw bytes", () => {
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-k6-"));
    const corpus = join(dir, "c.jsonl.gz");
    const records = [
      ...Array.from({ length: 10 }, (_, i) => ({ id: `a${i}`, label: "attack", method: "GET", uri: `/?p=${i}'--`, headers: { Host: "x", "User-Agent": "t" }, body: "" })),
      { id: "b0", label: "benign", method: "POST", uri: "/f", headers: { Host: "x", "Content-Length": "3" }, body: "\u00e9\u00ff", encoding: "latin1" },
    ];
    writeFileSync(corpus, gzipSync(records.map((r) => JSON.stringify(r)).join("\n")));
    const out = join(dir, "mix.json");
    execFileSync(process.execPath, [join(K6, "make-mix.mjs"), "--attacks", "4", "--benign", "4", "--out", out, corpus], { stdio: "pipe" });
    const mix = JSON.parse(readFileSync(out, "utf8")) as { id: string; label: string; headers: Record<string, string>; body: string }[];
    expect(mix.filter((r) => r.label === "attack").map((r) => r.id)).toEqual(["a0", "a2", "a5", "a7"]);
    const benign = mix.find((r) => r.id === "b0")!;
    expect(Buffer.from(benign.body, "base64")).toEqual(Buffer.from([0xe9, 0xff]));
    expect(Object.keys(benign.headers)).toEqual([]);
  });
});
