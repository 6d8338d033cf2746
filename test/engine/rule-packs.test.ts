import { describe, expect, it } from "vitest";
import { compileEngine, DEFAULT_ENGINE_SETTINGS } from "../../ext-proc/src/engine/compile-engine.js";
import { EngineError } from "../../ext-proc/src/engine/engine-error.js";
import { listBuiltinPacks, loadRulePacks, parseRuleDefinitions } from "../../ext-proc/src/policy/rule-packs.js";

function policyError(run: () => unknown): EngineError {
  try {
    run();
  } catch (error) {
    if (error instanceof EngineError) return error;
    throw error;
  }
  throw new Error("expected an EngineError");
}

describe("built-in rule packs", () => {
  it("lists every pack the issue asks for", () => {
    expect(listBuiltinPacks()).toEqual(
      expect.arrayContaining([
        "data-leakage", "lfi", "log4shell", "nosqli", "protocol", "prototype-pollution", "rce", "rfi",
        "scanners", "secrets", "sqli", "ssrf", "ssti", "xss", "xxe",
      ]),
    );
  });

  it("loads every pack, with unique ids and derived tags, and compiles at every paranoia level", () => {
    const rules = loadRulePacks(listBuiltinPacks());
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(rule.tags).toContain(`attack-${rule.category}`);
      expect(rule.tags).toContain(`paranoia-level/${rule.paranoiaLevel}`);
    }
    for (const paranoiaLevel of [1, 2, 3, 4]) {
      expect(() => compileEngine({ ...DEFAULT_ENGINE_SETTINGS, paranoiaLevel, rules })).not.toThrow();
    }
  });

  it("rejects an unknown pack by name", () => {
    expect(policyError(() => loadRulePacks(["nope"])).message).toMatch(/rule pack nope: no such built-in pack/);
  });
});

describe("parseRuleDefinitions", () => {
  const base = { id: "c1", category: "custom", targets: ["args"], transforms: [], regex: "evil" };

  it("fills defaults and tags", () => {
    const [rule] = parseRuleDefinitions([{ ...base, tags: ["team-a"] }], "policy.yaml");
    expect(rule).toMatchObject({ id: "c1", severity: "critical", phase: "request_headers", action: "score", paranoiaLevel: 1 });
    expect(rule?.tags).toEqual(["attack-custom", "paranoia-level/1", "team-a"]);
  });

  const cases: [string, unknown, RegExp][] = [
    ["an unknown field", { ...base, regx: "x" }, /policy.yaml: rule c1 field regx: unknown field/],
    ["a bad severity", { ...base, severity: "huge" }, /rule c1 field severity: must be one of critical, error, warning, notice/],
    ["both regex and phrases", { ...base, phrases: ["a"] }, /rule c1 field regex: give exactly one of regex or phrases/],
    ["a paranoia level out of range", { ...base, paranoia: 7 }, /rule c1 field paranoia: must be an integer from 1 to 4/],
    ["targets that are not a list", { ...base, targets: "args" }, /rule c1 field targets: must be a list/],
    ["an id with spaces", { ...base, id: "my rule" }, /rule my rule field id: must be letters/],
    ["a missing id", { category: "x", targets: ["args"], transforms: [], regex: "a" }, /rule #1 field id: must be a non-empty string/],
  ];
  for (const [what, raw, message] of cases) {
    it(`rejects ${what}, naming the rule and the field`, () => {
      const error = policyError(() => parseRuleDefinitions([raw], "policy.yaml"));
      expect(error.code).toBe("policy_invalid");
      expect(error.message).toMatch(message);
    });
  }

  it("accepts nothing as no rules and rejects a non-list", () => {
    expect(parseRuleDefinitions(undefined, "p")).toEqual([]);
    expect(policyError(() => parseRuleDefinitions({ id: "x" }, "p")).message).toMatch(/p: rules: must be a list of rules/);
  });
});
