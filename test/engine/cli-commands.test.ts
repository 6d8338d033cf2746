import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { runCheck } from "../../ext-proc/src/cli/check-command.js";
import { runReplay } from "../../ext-proc/src/cli/replay-command.js";
import { policyFile } from "../support/in-process.js";

/** The default policy with scopes: monitor-only for the lab host, a 451 deny status for the legal host. */
const SCOPED_POLICY = [
  "apiVersion: meshrasp.io/v1alpha1",
  "kind: RaspPolicy",
  "metadata: { name: scoped }",
  "spec:",
  "  exclusions:",
  "    - { rules: ['tag:attack-sqli'], when: { pathPrefixes: [/reports] }, targets: ['args:filter'] }",
  "  scopes:",
  "    - { name: lab, match: { hosts: [lab.example.com] }, mode: monitor }",
  "    - { name: legal, match: { hosts: [legal.example.com] }, denyResponse: { status: 451 } }",
].join("\n");

const SQLI_QUERY = "q=1%27%20UNION%20SELECT%20password%20FROM%20users--";

function io(stdin = "") {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on("data", (chunk: Buffer) => out.push(chunk.toString()));
  stderr.on("data", (chunk: Buffer) => err.push(chunk.toString()));
  return { streams: { stdin: Readable.from([stdin]), stdout, stderr }, out: () => out.join(""), err: () => err.join("") };
}

describe("meshrasp check", () => {
  it("inspects a request given by flags and exits 1 when it is denied", async () => {
    const cli = io();
    const code = await runCheck(["--header", "User-Agent: test", "/search?q=1%27%20or%20%271%27%3D%271"], cli.streams);
    expect(code).toBe(1);
    const verdict = JSON.parse(cli.out()) as { action: string; status: number; matches: { ruleId: string }[] };
    expect(verdict).toMatchObject({ action: "deny", status: 403 });
    expect(verdict.matches.map((m) => m.ruleId)).toContain("sqli-quote-boolean");
  });

  it("reads a JSON record on stdin and exits 0 when allowed", async () => {
    const record = { method: "POST", uri: "/api", headers: { "Content-Type": "application/json" }, body: '{"name":"Ana"}' };
    const cli = io(JSON.stringify(record));
    expect(await runCheck([], cli.streams)).toBe(0);
    expect(JSON.parse(cli.out())).toMatchObject({ action: "allow", score: 0 });
  });

  it("resolves the request's scope as the server does: a monitored deny is reported, not blocked", async () => {
    const policy = policyFile(SCOPED_POLICY);
    const lab = io();
    expect(await runCheck(["--policy", policy, "--header", "Host: lab.example.com", `/search?${SQLI_QUERY}`], lab.streams)).toBe(0);
    expect(JSON.parse(lab.out())).toMatchObject({ action: "deny", scope: "lab", blocked: false });
    const legal = io();
    expect(await runCheck(["--policy", policy, "--header", "Host: legal.example.com", `/search?${SQLI_QUERY}`], legal.streams)).toBe(1);
    expect(JSON.parse(legal.out())).toMatchObject({ action: "deny", status: 451, scope: "legal", blocked: true });
  });

  it("applies the scope's conditional exclusions", async () => {
    const policy = policyFile(SCOPED_POLICY);
    const excluded = io();
    expect(await runCheck(["--policy", policy, `/reports?${SQLI_QUERY.replace("q=", "filter=")}`], excluded.streams)).toBe(0);
    expect(JSON.parse(excluded.out())).toMatchObject({ action: "allow", scope: "spec", blocked: false });
    const elsewhere = io();
    expect(await runCheck(["--policy", policy, `/search?${SQLI_QUERY.replace("q=", "filter=")}`], elsewhere.streams)).toBe(1);
  });

  it("explains bad input with exit code 2", async () => {
    const cli = io("not json");
    expect(await runCheck([], cli.streams)).toBe(2);
    expect(cli.err()).toMatch(/meshrasp check: .*\nusage: meshrasp check/);
    const policy = io();
    await expect(runCheck(["--policy", "missing.yaml", "/"], policy.streams)).rejects.toThrow(/missing\.yaml: cannot read the policy file/);
  });
});

describe("meshrasp replay", () => {
  it("replays a corpus file, writes one verdict line per request and prints TPR/FPR", async () => {
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-replay-"));
    const records = [
      { id: "t:1", label: "attack", category: "xss", method: "GET", uri: "/?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", headers: {} },
      { id: "t:2", label: "attack", category: "sqli", method: "GET", uri: "/?q=plain", headers: {} },
      { id: "t:3", label: "benign", category: "other", method: "GET", uri: "/?q=hello", headers: {} },
    ];
    const corpus = join(dir, "mini.jsonl.gz");
    writeFileSync(corpus, gzipSync(records.map((r) => JSON.stringify(r)).join("\n") + "\n"));
    const out = join(dir, "verdicts.jsonl");
    const cli = io();
    expect(await runReplay(["--out", out, corpus], cli.streams)).toBe(0);
    const lines = readFileSync(out, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.id, l.action, l.status, l.scope, l.blocked])).toEqual([
      ["t:1", "deny", 403, "spec", true],
      ["t:2", "allow", 200, "spec", false],
      ["t:3", "allow", 200, "spec", false],
    ]);
    expect(cli.out()).toMatch(/mini\.jsonl\.gz\s+attack\s+2\s+1\s+TPR 50\.00/);
    expect(cli.out()).toMatch(/mini\.jsonl\.gz\s+benign\s+1\s+0\s+FPR 0\.00/);
  });

  it("counts as blocked what the server would deny under each request's scope, whatever the deny status", async () => {
    const attack = (id: string, host: string) => ({ id, label: "attack", category: "sqli", method: "GET", uri: `/search?${SQLI_QUERY}`, headers: { Host: host } });
    const records = [attack("monitored", "lab.example.com"), attack("legal", "legal.example.com"), attack("plain", "shop.example.com")];
    const corpus = policyFile(records.map((r) => JSON.stringify(r)).join("\n"), "scoped.jsonl");
    const cli = io();
    expect(await runReplay(["--policy", policyFile(SCOPED_POLICY), corpus], cli.streams)).toBe(0);
    expect(cli.out()).toMatch(/scoped\.jsonl\s+attack\s+3\s+2\s+TPR 66\.67/);
  });

  it("asks for a corpus file", async () => {
    const cli = io();
    expect(await runReplay([], cli.streams)).toBe(2);
    expect(cli.err()).toMatch(/usage: meshrasp replay/);
  });
});
