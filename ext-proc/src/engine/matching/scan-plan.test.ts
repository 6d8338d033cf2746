import { describe, expect, it } from "vitest";
import { parseRuleDefinitions } from "../../policy/rule-packs.js";
import { compileEngine, DEFAULT_ENGINE_SETTINGS } from "../compile-engine.js";
import type { Budget } from "../types.js";

const never: Budget = { exceeded: () => false };

function firedOn(rules: unknown[], query: string): string[] {
  const engine = compileEngine({ ...DEFAULT_ENGINE_SETTINGS, rules: parseRuleDefinitions(rules, "test") });
  const verdict = engine
    .newTransaction()
    .inspectRequestHeaders({ method: "GET", path: `/?${query}`, authority: "a", scheme: "http", headers: [] }, never);
  return verdict.matches.map((m) => m.ruleId).sort();
}

const rule = (id: string, regex: string, transforms: string[] = []): unknown => ({
  id,
  category: "test",
  targets: ["args"],
  transforms,
  regex,
  action: "log",
});

describe("scan plans: one folded set per step", () => {
  it("drops a hit of a child whose transformation changed the value", () => {
    // The root pass scans the union of both rules; url_decode turns %41 into A, so the child's
    // rule must only see "xA" and not fire on the raw "%41".
    const rules = [rule("t-raw", "zzz"), rule("t-decoded", "%41", ["url_decode"])];
    expect(firedOn(rules, "q=x%2541")).toEqual([]);
    expect(firedOn(rules, "q=x%2541zzz")).toEqual(["t-raw"]);
  });

  it("keeps a hit of a child folded because its transformation changed nothing", () => {
    const rules = [rule("t-raw", "zzz"), rule("t-lower", "abc", ["lowercase"])];
    expect(firedOn(rules, "q=abc")).toEqual(["t-lower"]);
  });

  it("answers like single-line patterns on values with their own newlines", () => {
    // The sets are compiled multi-line; ^admin$ must not match "x\nadmin" as one value.
    const rules = [rule("t-anchored", "^admin$")];
    expect(firedOn(rules, "q=x%0Aadmin")).toEqual([]);
    expect(firedOn(rules, "q=admin")).toEqual(["t-anchored"]);
    expect(firedOn(rules, "a=1&q=admin&b=2")).toEqual(["t-anchored"]);
  });
});
