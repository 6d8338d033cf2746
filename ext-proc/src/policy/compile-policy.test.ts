import { describe, expect, it } from "vitest";
import { carriesOutDeny } from "./active-policy.js";
import { compilePolicy } from "./compile-policy.js";
import { parsePolicy } from "./policy-document.js";
import { PolicyError } from "./policy-error.js";
import type { RequestIdentity } from "./request-conditions.js";

const HEADER = "apiVersion: meshrasp.io/v1alpha1\nkind: RaspPolicy\nmetadata:\n  name: shop\n";

function compile(spec: string) {
  return compilePolicy(parsePolicy(`${HEADER}spec:\n${spec}`, "p.yaml"));
}

function rejected(spec: string): PolicyError["issues"] {
  try {
    compile(spec);
  } catch (error) {
    if (error instanceof PolicyError) return error.issues;
    throw error;
  }
  throw new Error("expected the policy to be rejected");
}

const request = (overrides: Partial<RequestIdentity> = {}): RequestIdentity => ({
  workload: "web",
  namespace: "shop",
  host: "shop.example.com",
  path: "/",
  method: "GET",
  ...overrides,
});

const SQLI = { method: "GET", path: "/?q=1%27%20UNION%20SELECT%20password%20FROM%20users--", authority: "shop.example.com", scheme: "https", headers: [] };
const budget = { exceeded: () => false };

describe("compilePolicy", () => {
  it("applies the first scope that matches, and the spec otherwise", () => {
    const policy = compile(
      [
        "  mode: enforce",
        "  scopes:",
        "    - name: legacy-admin",
        "      match: { hosts: ['admin.example.com'], pathPrefixes: ['/legacy'] }",
        "      mode: monitor",
        "    - name: payments",
        "      match: { namespaces: [payments] }",
        "      denyResponse: { status: 451 }",
        "    - name: wildcard",
        "      match: { hosts: ['*.internal.example.com'] }",
        "      mode: off",
      ].join("\n"),
    );
    expect(policy.resolve(request()).scope).toBe("spec");
    expect(policy.resolve(request({ host: "admin.example.com", path: "/legacy/users" })).mode).toBe("monitor");
    expect(policy.resolve(request({ host: "admin.example.com", path: "/new" })).scope).toBe("spec");
    expect(policy.resolve(request({ namespace: "payments" })).scope).toBe("payments");
    expect(policy.resolve(request({ host: "db.internal.example.com" })).mode).toBe("off");
    expect(policy.resolve(request({ host: "internal.example.com" })).scope).toBe("spec");
  });

  it("gives a scope its own deny status while sharing the compiled rules", () => {
    const policy = compile("  scopes:\n    - name: payments\n      match: { namespaces: [payments] }\n      denyResponse: { status: 451 }\n");
    const spec = policy.resolve(request());
    const payments = policy.resolve(request({ namespace: "payments" }));
    expect(spec.engine.newTransaction().inspectRequestHeaders(SQLI, budget)).toMatchObject({ action: "deny", status: 403 });
    expect(payments.engine.newTransaction().inspectRequestHeaders(SQLI, budget)).toMatchObject({ action: "deny", status: 451 });
    const same = compile("  scopes:\n    - name: monitor\n      match: { namespaces: [dev] }\n      mode: monitor\n");
    expect(same.resolve(request({ namespace: "dev" })).engine).toBe(same.resolve(request()).engine);
  });

  it("removes rules named by an unconditional exclusion", () => {
    const policy = compile("  exclusions:\n    - rules: ['tag:attack-sqli']\n");
    expect(policy.resolve(request()).engine.newTransaction().inspectRequestHeaders(SQLI, budget).matches.map((m) => m.category)).not.toContain("sqli");
  });

  it("hands conditional exclusions to the request they apply to", () => {
    const policy = compile(
      "  exclusions:\n    - rules: [sqli-union-select]\n      when: { pathPrefixes: ['/search'] }\n      targets: ['args:q']\n",
    );
    const scope = policy.resolve(request());
    expect(scope.exclusions(request({ path: "/search" }))).toEqual([{ rules: ["sqli-union-select"], targets: ["args:q"] }]);
    expect(scope.exclusions(request({ path: "/" }))).toEqual([]);
  });

  it("rejects an exclusion target no rule could have, naming where it is, once though scopes inherit it", () => {
    const text = "  exclusions:\n    - rules: [sqli-union-select]\n      targets: ['args:q', 'argz:q']\n  scopes:\n    - name: a\n      match: { namespaces: [a] }\n";
    let issues: readonly string[] = [];
    try {
      compile(text);
    } catch (error) {
      issues = (error as { issues: { message: string; path: string }[] }).issues.map((i) => `${i.path}: ${i.message}`);
    }
    expect(issues).toEqual([expect.stringMatching(/^spec\.exclusions\[0\]: .*targets\[1\]: unknown target "argz"/)]);
  });

  it("lists rules in monitor mode", () => {
    const policy = compile("  ruleOverrides:\n    - rules: ['tag:attack-xss']\n      mode: monitor\n");
    expect(policy.resolve(request()).monitoredRules).toEqual([{ rules: ["tag:attack-xss"] }]);
  });

  it("filters bodies by content type, inspecting bodies without one", () => {
    const scope = compile("  inspectContentTypes: [application/json, 'text/*']\n").resolve(request());
    expect(scope.inspectsBody("application/json; charset=utf-8")).toBe(true);
    expect(scope.inspectsBody("text/plain")).toBe(true);
    expect(scope.inspectsBody("image/png")).toBe(false);
    expect(scope.inspectsBody(undefined)).toBe(true);
  });

  it("carries out a deny only where the scope enforces, and a response deny only with onLeak: block", () => {
    const policy = compile(
      [
        "  response: { onLeak: block }",
        "  scopes:",
        "    - { name: watch, match: { namespaces: [dev] }, mode: monitor }",
        "    - { name: quiet, match: { namespaces: [off] }, mode: off }",
        "    - { name: logged, match: { namespaces: [legacy] }, response: { onLeak: log } }",
        "    - { name: masked, match: { namespaces: [pay] }, response: { onLeak: redact } }",
      ].join("\n"),
    );
    const outcomes = Object.fromEntries(
      ["shop", "dev", "off", "legacy", "pay"].map((namespace) => {
        const scope = policy.resolve(request({ namespace }));
        const carried = (action: "deny" | "log" | "allow", direction: "request" | "response") => carriesOutDeny(scope, { action }, direction);
        return [scope.scope, [carried("deny", "request"), carried("deny", "response"), carried("log", "request"), carried("allow", "response")]];
      }),
    );
    expect(outcomes).toEqual({
      spec: [true, true, false, false],
      watch: [false, false, false, false],
      quiet: [false, false, false, false],
      logged: [true, false, false, false],
      masked: [true, false, false, false],
    });
    expect(carriesOutDeny(policy.resolve(request()), undefined, "request")).toBe(false);
  });

  it("rejects references to rules, tags and packs that do not exist, with positions", () => {
    const issues = rejected(
      ["  disabledRules: [no-such-rule]", "  exclusions:", "    - rules: ['tag:no-such-tag']", "  rulePacks: [sqli, nope]"].join("\n"),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: "spec.disabledRules[0]", line: 6, message: 'no rule has id "no-such-rule"' }),
        expect.objectContaining({ path: "spec.exclusions[0].rules[0]", line: 8, message: 'no rule has tag "no-such-tag"' }),
        expect.objectContaining({ path: "spec.rulePacks[1]", line: 9 }),
      ]),
    );
  });

  it("refuses header changes Envoy would refuse or that frame the message", () => {
    const issues = rejected(
      ["  request:", "    removeHeaders: [host, x-envoy-original-path]", "  response:", "    setHeaders: { content-length: '0' }"].join("\n"),
    );
    expect(issues.map((i) => i.path)).toEqual(["spec.request.removeHeaders[0]", "spec.request.removeHeaders[1]", "spec.response.setHeaders.content-length"]);
  });

  it("reports every bad custom rule at its own field, and duplicate ids", () => {
    const rule = (id: string, extra: string) => [`    - id: ${id}`, "      message: m", "      category: sqli", "      targets: [args]", extra];
    const issues = rejected(
      ["  rules:", ...rule("a", "      regex: 'abc'"), ...rule("b", "      regex: '(?=x)'"), ...rule("a", "      regex: 'x'"), ...rule("sqli-union-select", "      regex: 'y'")].join("\n"),
    );
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ["spec.rules[1].regex", 16],
      ["spec.rules[2].id", 17],
      ["spec.rules[3].id", 22],
    ]);
    expect(issues[0]?.message).toMatch(/invalid RE2 pattern/);
    expect(issues[1]?.message).toBe('rule id "a" is already used by spec.rules[0]');
    expect(issues[2]?.message).toBe('rule id "sqli-union-select" is already a built-in rule');
  });

  it("rejects scopes that conflict", () => {
    const issues = rejected(
      ["  scopes:", "    - name: a", "      match: { namespaces: [x] }", "    - name: b", "      match: { namespaces: [x] }"].join("\n"),
    );
    expect(issues).toEqual([expect.objectContaining({ path: "spec.scopes[1].match", line: 10, message: expect.stringContaining('same match as scope "a"') as string })]);
  });

  it("hashes what is enforced: equal documents hash equal, any change changes the hash", () => {
    const a = compile("  mode: enforce\n").hash;
    expect(compile("  mode: enforce\n").hash).toBe(a);
    expect(compilePolicy(parsePolicy(`${HEADER}`, "p.yaml")).hash).toBe(a);
    expect(compile("  mode: monitor\n").hash).not.toBe(a);
    expect(compile("  disabledRules: [sqli-union-select]\n").hash).not.toBe(a);
  });
});
