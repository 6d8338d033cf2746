import { describe, expect, it } from "vitest";
import { compilePolicy } from "../policy/compile-policy.js";
import { parsePolicy } from "../policy/policy-document.js";
import type { RequestIdentity } from "../policy/request-conditions.js";
import type { RequestHead } from "./types.js";

const budget = { exceeded: () => false };
const identity = (path: string): RequestIdentity => ({ workload: "w", namespace: "n", host: "shop", path, method: "GET" });
const head = (path: string): RequestHead => ({ method: "GET", path, authority: "shop", scheme: "https", headers: [] });
const SQLI = "1' UNION SELECT password FROM users--";

function verdictFor(spec: string, path: string) {
  const policy = compilePolicy(parsePolicy(`apiVersion: meshrasp.io/v1alpha1\nkind: RaspPolicy\nmetadata: { name: t }\nspec:\n${spec}`, "t.yaml"));
  const request = identity(path.split("?")[0]!);
  const scope = policy.resolve(request);
  const tx = scope.engine.newTransaction({ exclusions: scope.exclusions(request), monitored: scope.monitoredRules });
  return tx.inspectRequestHeaders(head(path), budget);
}

const q = (name: string) => `?${name}=${encodeURIComponent(SQLI)}`;

describe("exclusions and monitored rules in the engine", () => {
  it("denies without any exclusion", () => {
    expect(verdictFor("  mode: enforce\n", `/search${q("q")}`).action).toBe("deny");
  });

  it("drops matches of excluded rules on the named target only", () => {
    const spec = "  exclusions:\n    - rules: ['tag:attack-sqli']\n      when: { pathPrefixes: [/search] }\n      targets: ['args:q']\n";
    const excluded = verdictFor(spec, `/search${q("q")}`);
    expect(excluded.matches.filter((m) => m.category === "sqli")).toEqual([]);
    expect(excluded.action).not.toBe("deny");
    // Another argument, or another path, is still inspected.
    expect(verdictFor(spec, `/search${q("other")}`).action).toBe("deny");
    expect(verdictFor(spec, `/login${q("q")}`).action).toBe("deny");
  });

  it("reports monitored rules, does not enforce them, and says it would have denied", () => {
    const verdict = verdictFor("  ruleOverrides:\n    - rules: ['tag:attack-sqli']\n      mode: monitor\n", `/search${q("q")}`);
    expect(verdict.action).toBe("log");
    expect(verdict.wouldDeny).toBe(true);
    const sqli = verdict.matches.filter((m) => m.category === "sqli");
    expect(sqli.length).toBeGreaterThan(0);
    expect(sqli.every((m) => m.monitored === true)).toBe(true);
  });
});
