import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { defaultPolicyPath } from "../policy/policy-document.js";
import { runWhatIf } from "./what-if-command.js";

function run(args: string[]): Promise<{ code: number; out: string }> {
  const stdout = new PassThrough();
  let out = "";
  stdout.on("data", (c: Buffer) => (out += c.toString()));
  return runWhatIf(args, { stdin: new PassThrough(), stdout, stderr: new PassThrough() }).then((code) => ({ code, out }));
}

describe("replay --baseline (what-if)", () => {
  it("lists the requests whose verdict changes, with the rules responsible, and sums up", async () => {
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-whatif-"));
    const baseline = defaultPolicyPath();
    const next = join(dir, "next.yaml");
    writeFileSync(next, readFileSync(baseline, "utf8").replace("  failure:", "  disabledRules: ['tag:attack-sqli']\n  failure:"));
    const corpus = join(dir, "c.jsonl");
    const records = [
      { id: "sqli-1", label: "attack", category: "sqli", method: "GET", uri: "/?id=1%27%20UNION%20SELECT%20password%20FROM%20users--", headers: { Host: "shop" } },
      { id: "xss-1", label: "attack", category: "xss", method: "GET", uri: "/?q=%3Cscript%3Ealert(1)%3C/script%3E", headers: { Host: "shop" } },
      { id: "ok-1", label: "benign", category: "other", method: "GET", uri: "/products?page=2", headers: { Host: "shop" } },
    ];
    writeFileSync(corpus, records.map((r) => JSON.stringify(r)).join("\n"));
    const { code, out } = await run(["--policy", next, "--baseline", baseline, corpus]);
    expect(code).toBe(0);
    const lines = out.trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^sqli-1\tattack\/sqli\tdeny 403 -> allow\t(-sqli-\S+ ?)+$/);
    expect(lines[1]).toBe("what-if: 3 requests, 1 changed: 0 now denied (0 attack, 0 benign), 1 now allowed (1 attack, 0 benign), 0 with another status");
  });

  it("runs each request as the server would: bodies of types the scope does not inspect, workload from the host", async () => {
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-whatif-"));
    const baseline = defaultPolicyPath();
    const next = join(dir, "next.yaml");
    const scopes = ["  scopes:", "    - { name: json-only, match: { workloads: [forms.example.com] }, inspectContentTypes: [application/json] }", "  failure:"];
    writeFileSync(next, readFileSync(baseline, "utf8").replace("  failure:", scopes.join("\n")));
    const form = (id: string, host: string) => ({
      id, label: "attack", category: "sqli", method: "POST", uri: "/login",
      headers: { Host: host, "Content-Type": "application/x-www-form-urlencoded" },
      body: "user=1%27%20UNION%20SELECT%20password%20FROM%20users--",
    });
    const corpus = join(dir, "c.jsonl");
    writeFileSync(corpus, [form("skipped", "forms.example.com"), form("inspected", "shop.example.com")].map((r) => JSON.stringify(r)).join("\n"));
    const { out } = await run(["--policy", next, "--baseline", baseline, corpus]);
    const lines = out.trim().split("\n");
    expect(lines[0]).toMatch(/^skipped\tattack\/sqli\tdeny 403 -> allow\t/);
    expect(lines[1]).toMatch(/^what-if: 2 requests, 1 changed: /);
  });

  it("needs both policies", async () => {
    await expect(run(["--baseline", defaultPolicyPath(), "x.jsonl"])).rejects.toThrow(/needs --policy/);
  });
});
