import { describe, expect, it } from "vitest";
import { compilePolicy } from "../policy/compile-policy.js";
import { parsePolicy } from "../policy/policy-document.js";
import type { RequestIdentity } from "../policy/request-conditions.js";
import { EngineError } from "./engine-error.js";
import { compileMatchFilter } from "./match-filters.js";
import type { RequestHead, Verdict } from "./types.js";

const budget = { exceeded: () => false };
const identity = (path: string): RequestIdentity => ({ workload: "w", namespace: "n", host: "shop", path, method: "GET" });
const SQLI = "1' UNION SELECT password FROM users--";

function head(path: string, contentType?: string): RequestHead {
  const headers = contentType === undefined ? [] : [{ name: "content-type", value: Buffer.from(contentType) }];
  return { method: contentType === undefined ? "GET" : "POST", path, authority: "shop", scheme: "https", headers };
}

/** The verdict of the last phase inspected: the request headers, or the JSON body when there is one. */
function verdictFor(spec: string, path: string, json?: unknown): Verdict {
  const policy = compilePolicy(parsePolicy(`apiVersion: meshrasp.io/v1alpha1\nkind: RaspPolicy\nmetadata: { name: t }\nspec:\n${spec}`, "t.yaml"));
  const request = identity(path.split("?")[0]!);
  const scope = policy.resolve(request);
  const tx = scope.engine.newTransaction({ exclusions: scope.exclusions(request), monitored: scope.monitoredRules });
  const headers = tx.inspectRequestHeaders(head(path, json === undefined ? undefined : "application/json"), budget);
  if (json === undefined) return headers;
  return tx.inspectRequestBody(Buffer.from(JSON.stringify(json)), { last: true, complete: true }, budget);
}

const q = (name: string) => `?${name}=${encodeURIComponent(SQLI)}`;
const sqliTargets = (verdict: Verdict) => verdict.matches.filter((m) => m.category === "sqli").map((m) => m.target);
const excluding = (target: string) =>
  `  exclusions:\n    - rules: ['tag:attack-sqli']\n      when: { pathPrefixes: [/search] }\n      targets: ['${target.replaceAll("'", "''")}']\n`;

describe("exclusions and monitored rules in the engine", () => {
  it("denies without any exclusion", () => {
    expect(verdictFor("  mode: enforce\n", `/search${q("q")}`).action).toBe("deny");
  });

  it("drops matches of excluded rules on the named target only", () => {
    const spec = excluding("args:q");
    const excluded = verdictFor(spec, `/search${q("q")}`);
    expect(excluded.matches.filter((m) => m.category === "sqli")).toEqual([]);
    expect(excluded.action).not.toBe("deny");
    // Another argument, or another path, is still inspected.
    expect(verdictFor(spec, `/search${q("other")}`).action).toBe("deny");
    expect(verdictFor(spec, `/login${q("q")}`).action).toBe("deny");
  });

  it("covers every value a rule on the same target selects: any case, array suffixes, JSON leaves", () => {
    const spec = excluding("args:q");
    for (const name of ["Q", "q[]", "q[0]"]) expect(sqliTargets(verdictFor(spec, `/search${q(name)}`)), name).toEqual([]);
    expect(sqliTargets(verdictFor(spec, "/search", { q: SQLI }))).toEqual([]);
    expect(sqliTargets(verdictFor(spec, "/search", { user: { q: [SQLI] } }))).toEqual([]);
    // The control: the same body under another name is still denied.
    const other = verdictFor(spec, "/search", { other: SQLI });
    expect(other.action).toBe("deny");
    expect(sqliTargets(other)).toContain("json:$.other");
  });

  it("does not cover a JSON key that only looks like the name or the path: `x.q` is not `q`, nor `x` then `q`", () => {
    for (const [document, target] of [[{ "x.q": SQLI }, "json:$['x.q']"], [{ "x.q[0]": [SQLI] }, "json:$['x.q[0]'][0]"]] as const) {
      const byName = verdictFor(excluding("args:q"), "/search", document);
      expect(byName.action).toBe("deny");
      expect(sqliTargets(byName)).toContain(target);
    }
    // A quoted path names that key alone, not keys that hold it with indexes added.
    expect(verdictFor(excluding("json:$['x.q']"), "/search", { "x.q[0]": SQLI }).action).toBe("deny");
    expect(sqliTargets(verdictFor(excluding("json:$['x.q']"), "/search", { "x.q": [SQLI] }))).toEqual([]);
    const byPath = verdictFor(excluding("json:$.x.q"), "/search", { "x.q": SQLI });
    expect(byPath.action).toBe("deny");
    // The nested field the path names is covered, and so is a quoted key named by its own selector.
    expect(sqliTargets(verdictFor(excluding("json:$.x.q"), "/search", { x: { q: SQLI } }))).toEqual([]);
    expect(sqliTargets(verdictFor(excluding("args:x.q"), "/search", { "x.q": SQLI }))).toEqual([]);
  });

  it("covers a JSON path as a rule selecting it would: that field and its array elements, not a namesake elsewhere", () => {
    const spec = excluding("json:$.Comment.body");
    expect(sqliTargets(verdictFor(spec, "/search", { comment: { body: SQLI } }))).toEqual([]);
    expect(sqliTargets(verdictFor(spec, "/search", { comment: { body: [SQLI] } }))).toEqual([]);
    const elsewhere = verdictFor(spec, "/search", { post: { body: SQLI } });
    expect(elsewhere.action).toBe("deny");
    expect(sqliTargets(elsewhere)).toContain("json:$.post.body");
    // A query argument is not a JSON value, whatever its name.
    expect(verdictFor(spec, `/search${q("body")}`).action).toBe("deny");
  });

  it("reads excluding selectors in the target list as a rule's target list does", () => {
    const spec = "  exclusions:\n    - rules: ['tag:attack-sqli']\n      targets: [args, '!args:id']\n";
    expect(sqliTargets(verdictFor(spec, `/search${q("q")}`))).toEqual([]);
    expect(verdictFor(spec, `/search${q("ID")}`).action).toBe("deny");
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

describe("compileMatchFilter", () => {
  it("accepts the targets a rule accepts and hands the filter back", () => {
    const filter = { rules: ["tag:attack-sqli"], targets: ["args:q", "headers", "json:$.a.b", "!headers:cookie"] };
    expect(compileMatchFilter(filter)).toBe(filter);
    const everywhere = { rules: ["x"] };
    expect(compileMatchFilter(everywhere)).toBe(everywhere);
  });

  it.each([
    [["args:q", "argz:q"], /^targets\[1\]: unknown target "argz"$/],
    [["headers:"], /^targets\[0\]: target "headers:" has an empty name/],
    [["!args"], /^targets\[0\]: exclusion "!args" must name one value/],
    [["!args:q"], /^targets: nothing is covered/],
    [[], /^targets: nothing is covered/],
  ])("rejects %j with policy_invalid", (targets, message) => {
    let caught: unknown;
    try {
      compileMatchFilter({ rules: ["x"], targets });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(EngineError);
    expect((caught as EngineError).code).toBe("policy_invalid");
    expect((caught as EngineError).message).toMatch(message);
  });
});
