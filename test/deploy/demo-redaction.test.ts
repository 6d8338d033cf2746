// What GET /account returns through the compose demo, checked without Docker: the demo upstream's
// record, redacted by the demo policy's redaction settings, loses its secrets and stays JSON.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compilePolicy } from "../../ext-proc/src/policy/compile-policy.js";
import { parsePolicy } from "../../ext-proc/src/policy/policy-document.js";
import { account } from "../../envoy/demo-upstream/server.mjs";
import { repoPath } from "./helpers/repo.js";

describe("the compose demo's redaction", () => {
  it("masks the card number and the key id of /account, keeping valid JSON", () => {
    const file = repoPath("envoy/policy/policy.yaml");
    const policy = compilePolicy(parsePolicy(readFileSync(file, "utf8"), file));
    const redaction = policy.resolve({ workload: "", namespace: "", host: "", path: "/account", method: "GET" }).redaction;
    expect(redaction?.appliesTo("application/json")).toBe(true);
    const body = Buffer.from(JSON.stringify(account));
    const { body: out, hits } = redaction!.redactor.redact(body, true);
    const text = out.toString();
    expect(hits.map((h) => h.detector).sort()).toEqual(["aws-access-key", "credit-card"]);
    expect(text).not.toContain("4111 1111 1111 1111");
    expect(text).not.toContain("AKIAIOSFODNN7EXAMPLE");
    expect(JSON.parse(text)).toMatchObject({ owner: "Jane Example", card: { number: expect.stringMatching(/1111$/) as string } });
  });
});
