import { describe, expect, it } from "vitest";
import { POLICY_DEFAULTS, parsePolicyDocument, readPolicyFile, defaultPolicyPath } from "./policy-document.js";
import { PolicyError } from "./policy-error.js";

function issues(text: string): PolicyError["issues"] {
  try {
    parsePolicyDocument(text, "p.yaml");
  } catch (error) {
    if (error instanceof PolicyError) return error.issues;
    throw error;
  }
  throw new Error("expected the policy to be rejected");
}

const HEADER = "apiVersion: meshrasp.io/v1alpha1\nkind: RaspPolicy\nmetadata:\n  name: shop\n";

describe("parsePolicyDocument", () => {
  it("fills every default", () => {
    const doc = parsePolicyDocument(HEADER, "p.yaml");
    expect(doc.metadata).toEqual({ name: "shop", version: "0" });
    expect(doc.spec.mode).toBe("enforce");
    expect(doc.spec.limits).toEqual(POLICY_DEFAULTS.limits);
    expect(doc.spec.rulePacks).toBeUndefined();
  });

  it("keeps what is given and defaults the rest of a section", () => {
    const doc = parsePolicyDocument(`${HEADER}spec:\n  limits:\n    maxBodyBytes: 4096\n`, "p.yaml");
    expect(doc.spec.limits.maxBodyBytes).toBe(4096);
    expect(doc.spec.limits.phaseBudgetMs).toBe(POLICY_DEFAULTS.limits.phaseBudgetMs);
  });

  it("accepts JSON", () => {
    const json = JSON.stringify({ apiVersion: "meshrasp.io/v1alpha1", kind: "RaspPolicy", metadata: { name: "j" }, spec: { mode: "monitor" } });
    expect(parsePolicyDocument(json, "p.json").spec.mode).toBe("monitor");
  });

  it("names the path and line:column of an unknown field", () => {
    expect(issues(`${HEADER}spec:\n  limits:\n    maxBodyByte: 10\n`)).toEqual([
      { path: "spec.limits.maxBodyByte", line: 7, column: 5, message: "unknown field" },
    ]);
  });

  it("reports every error at once, with enum choices", () => {
    const found = issues(`${HEADER}spec:\n  mode: block\n  paranoiaLevel: 9\n`);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatchObject({ path: "spec.mode", line: 6, message: 'must be one of "enforce", "monitor", "off"' });
    expect(found[1]).toMatchObject({ path: "spec.paranoiaLevel", line: 7 });
  });

  it("rejects text that is not YAML, an empty file and a missing field", () => {
    expect(issues("a: [1, 2\n")[0]?.message).toMatch(/^not valid YAML/);
    expect(issues("")[0]?.message).toBe("the policy is empty");
    expect(issues("apiVersion: meshrasp.io/v1alpha1\nkind: RaspPolicy\n")[0]?.message).toBe('missing required field "metadata"');
  });

  it("rejects duplicate keys", () => {
    expect(issues(`${HEADER}spec:\n  mode: off\n  mode: enforce\n`)[0]?.message).toMatch(/not valid YAML/);
  });

  it("reports an unreadable file as an error of that file", () => {
    expect(() => readPolicyFile("/nonexistent/policy.yaml")).toThrow(/cannot read the policy file/);
  });

  it("loads the built-in default policy", () => {
    const doc = readPolicyFile(defaultPolicyPath()).document;
    expect(doc.metadata.name).toBe("default");
    expect(doc.spec.denyResponse.status).toBe(403);
  });
});
