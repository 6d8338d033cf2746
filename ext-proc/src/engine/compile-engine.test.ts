import { describe, expect, it } from "vitest";
import { parseRuleDefinitions } from "../policy/rule-packs.js";
import { compileEngine, DEFAULT_ENGINE_SETTINGS, type EngineSettings } from "./compile-engine.js";
import { EngineError } from "./engine-error.js";
import type { Budget, HeaderField, Transaction } from "./types.js";

const never: Budget = { exceeded: () => false };

function settings(rules: unknown[], overrides: Partial<EngineSettings> = {}): EngineSettings {
  return { ...DEFAULT_ENGINE_SETTINGS, rules: parseRuleDefinitions(rules, "test"), ...overrides };
}

function headers(list: Record<string, string>): HeaderField[] {
  return Object.entries(list).map(([name, value]) => ({ name, value: Buffer.from(value) }));
}

function get(tx: Transaction, path: string, extra: Record<string, string> = {}) {
  return tx.inspectRequestHeaders({ method: "GET", path, authority: "a", scheme: "http", headers: headers(extra) }, never);
}

const sqli = { id: "t-sqli", category: "sqli", targets: ["args"], transforms: ["url_decode"], regex: "union\\s+select" };

describe("compileEngine: loading", () => {
  const cases: [string, unknown[], RegExp][] = [
    ["an invalid RE2 pattern", [{ ...sqli, regex: "(?=x)" }], /rule t-sqli field regex: invalid RE2 pattern/],
    ["an unknown transformation", [{ ...sqli, transforms: ["rot13"] }], /rule t-sqli field transforms: unknown transformation "rot13"/],
    ["an unknown target", [{ ...sqli, targets: ["argz"] }], /rule t-sqli field targets: unknown target "argz"/],
    ["a duplicate id", [sqli, sqli], /rule t-sqli field id: duplicate rule id/],
    ["a pattern matching everything", [{ ...sqli, regex: "x*" }], /rule t-sqli field regex: the pattern matches the empty string/],
    ["a target from another phase", [{ ...sqli, targets: ["body"], phase: "response_body" }], /rule t-sqli field targets: target "body" is not available/],
  ];
  for (const [what, rules, message] of cases) {
    it(`rejects ${what} with policy_invalid`, () => {
      let caught: unknown;
      try {
        compileEngine(settings(rules));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EngineError);
      expect((caught as EngineError).code).toBe("policy_invalid");
      expect((caught as EngineError).message).toMatch(message);
    });
  }

  it("rejects out-of-range settings naming the field", () => {
    expect(() => compileEngine(settings([], { paranoiaLevel: 5 }))).toThrow(/setting paranoiaLevel/);
    expect(() => compileEngine(settings([], { limits: { ...DEFAULT_ENGINE_SETTINGS.limits, maxJsonDepth: 0 } }))).toThrow(
      /setting limits.maxJsonDepth: must be an integer from 1/,
    );
  });

  it("EngineError.from keeps EngineErrors and wraps anything else", () => {
    const original = EngineError.policyInvalid("x", "y");
    expect(EngineError.from(original)).toBe(original);
    expect(EngineError.from("boom").code).toBe("internal");
    expect(EngineError.from(new Error("e"), "inspection_timeout").message).toBe("e");
  });
});

describe("compileEngine: scoring and verdicts", () => {
  it("scores a match and denies at the inbound threshold with the deny status", () => {
    const engine = compileEngine(settings([sqli], { denyStatus: 406 }));
    const verdict = get(engine.newTransaction(), "/?q=1%20UNION%20SELECT%202");
    expect(verdict).toMatchObject({ action: "deny", status: 406, score: 5 });
    expect(verdict.matches[0]).toMatchObject({ ruleId: "t-sqli", target: "args:q", matched: "UNION SELECT", phase: "request_headers" });
  });

  it("stays below the threshold with a warning, then adds up across phases", () => {
    const rules = [
      { ...sqli, id: "w1", severity: "warning", regex: "select" },
      { ...sqli, id: "n1", severity: "notice", regex: "from" },
    ];
    const engine = compileEngine(settings(rules));
    const tx = engine.newTransaction();
    expect(get(tx, "/?q=select")).toMatchObject({ action: "log", score: 3 });
    const body = tx.inspectRequestBody(Buffer.from("a=from"), { last: true, complete: true }, never);
    expect(body).toMatchObject({ action: "deny", score: 5 });
    expect(body.matches.map((m) => m.ruleId)).toEqual(["n1"]);
  });

  it("scores each rule once per transaction", () => {
    const engine = compileEngine(settings([{ ...sqli, severity: "notice" }]));
    expect(get(engine.newTransaction(), "/?a=union+select&b=union+select")).toMatchObject({ action: "log", score: 2 });
  });

  it("denies on a deny rule regardless of score; log rules add nothing", () => {
    const engine = compileEngine(
      settings([
        { ...sqli, id: "d", severity: "notice", action: "deny", regex: "evil" },
        { ...sqli, id: "l", action: "log", regex: "meh" },
      ]),
    );
    expect(get(engine.newTransaction(), "/?q=evil")).toMatchObject({ action: "deny", status: 403 });
    expect(get(engine.newTransaction(), "/?q=meh")).toMatchObject({ action: "log", score: 0 });
    expect(get(engine.newTransaction(), "/?q=fine")).toMatchObject({ action: "allow", score: 0, matches: [] });
  });

  it("filters by paranoia level, disabled ids and disabled tags", () => {
    const rules = [
      { ...sqli, id: "pl2", paranoia: 2 },
      { ...sqli, id: "tagged", tags: ["noisy"], regex: "union" },
      { ...sqli, id: "off", regex: "select" },
    ];
    const engine = compileEngine(settings(rules, { disabledRuleIds: ["off"], disabledTags: ["noisy"] }));
    expect(get(engine.newTransaction(), "/?q=union+select")).toMatchObject({ action: "allow" });
    const pl2 = compileEngine(settings(rules, { paranoiaLevel: 2, disabledRuleIds: ["off"], disabledTags: ["noisy"] }));
    expect(get(pl2.newTransaction(), "/?q=union+select").matches.map((m) => m.ruleId)).toEqual(["pl2"]);
  });

  it("selects headers by name and honours exclusions", () => {
    const rule = { id: "h", category: "x", targets: ["headers", "!headers:cookie"], transforms: [], regex: "bad" };
    const ua = { id: "ua", category: "scanner", targets: ["headers:user-agent"], transforms: [], regex: "sqlmap" };
    const engine = compileEngine(settings([rule, ua]));
    expect(get(engine.newTransaction(), "/", { cookie: "bad" }).action).toBe("allow");
    expect(get(engine.newTransaction(), "/", { "x-thing": "bad" }).matches[0]?.target).toBe("headers:x-thing");
    expect(get(engine.newTransaction(), "/", { referer: "sqlmap" }).action).toBe("allow");
    expect(get(engine.newTransaction(), "/", { "user-agent": "sqlmap/1.7" }).matches[0]?.ruleId).toBe("ua");
  });

  it("fires negated rules when the allow-list does not match", () => {
    const rule = { id: "m", category: "protocol", targets: ["method"], transforms: [], negate: true, caseSensitive: true, regex: "^(?:GET|POST)$" };
    const engine = compileEngine(settings([rule]));
    const head = (method: string) =>
      engine.newTransaction().inspectRequestHeaders({ method, path: "/", authority: "a", scheme: "http", headers: [] }, never);
    expect(head("GET").action).toBe("allow");
    expect(head("TRACE")).toMatchObject({ action: "deny", matches: [{ ruleId: "m", matched: "TRACE" }] });
  });
});

describe("compileEngine: bodies and limits", () => {
  const bodyRule = { ...sqli, id: "b", targets: ["args", "body"] };

  it("parses form, JSON and multipart bodies by content type", () => {
    const engine = compileEngine(settings([{ ...sqli, targets: ["args"] }]));
    const post = (contentType: string, body: string) => {
      const tx = engine.newTransaction();
      tx.inspectRequestHeaders({ method: "POST", path: "/", authority: "a", scheme: "http", headers: headers({ "content-type": contentType }) }, never);
      return tx.inspectRequestBody(Buffer.from(body), { last: true, complete: true }, never);
    };
    expect(post("application/x-www-form-urlencoded", "a=union%20select").matches[0]?.target).toBe("args:a");
    expect(post("application/json", '{"u":{"q":"union select"}}').matches[0]?.target).toBe("json:$.u.q");
    const multipart = '--b\r\nContent-Disposition: form-data; name="f"\r\n\r\nunion select\r\n--b--\r\n';
    expect(post("multipart/form-data; boundary=b", multipart).matches[0]?.target).toBe("multipart:f");
    expect(post("application/json", '{"q":"union select", broken').truncated).toContain("unparsable_body");
    expect(post("application/json", '{"q":"union select", broken').action).toBe("deny");
  });

  it("finds an attack split across streamed chunks at the chunk that completes it", () => {
    const engine = compileEngine(settings([bodyRule]));
    const tx = engine.newTransaction();
    const filler = "x".repeat(10_000);
    expect(tx.inspectRequestBody(Buffer.from(filler + "uni"), { last: false, complete: true }, never).action).toBe("allow");
    const second = tx.inspectRequestBody(Buffer.from("on select"), { last: false, complete: true }, never);
    expect(second).toMatchObject({ action: "deny", matches: [{ target: "body" }] });
  });

  it("finds a payload padded to 1 MiB", () => {
    const engine = compileEngine(settings([{ ...sqli, targets: ["args"] }]));
    const tx = engine.newTransaction();
    const body = `pad=${"a".repeat(1024 * 1024)}&q=union+select`;
    expect(tx.inspectRequestBody(Buffer.from(body), { last: true, complete: true }, never).action).toBe("deny");
  });

  it("flags the body limit, and denies with 413 when the policy says so", () => {
    const limits = { ...DEFAULT_ENGINE_SETTINGS.limits, maxBodyBytes: 16 };
    const body = Buffer.from("a=1&b=2&c=3&d=4&e=union+select");
    const allow = compileEngine(settings([sqli], { limits })).newTransaction();
    expect(allow.inspectRequestBody(body, { last: true, complete: true }, never)).toMatchObject({
      action: "allow",
      truncated: ["body_limit"],
    });
    const deny = compileEngine(settings([sqli], { limits, onLimit: "deny" })).newTransaction();
    expect(deny.inspectRequestBody(body, { last: true, complete: true }, never)).toMatchObject({ action: "deny", status: 413 });
  });

  it("flags the argument limit and the time budget", () => {
    const limits = { ...DEFAULT_ENGINE_SETTINGS.limits, maxArguments: 2 };
    const engine = compileEngine(settings([sqli], { limits }));
    expect(get(engine.newTransaction(), "/?a=1&b=2&c=union+select")).toMatchObject({ action: "allow", truncated: ["argument_limit"] });
    const spent: Budget = { exceeded: () => true };
    const verdict = engine.newTransaction().inspectRequestHeaders(
      { method: "GET", path: "/?q=union+select", authority: "a", scheme: "http", headers: [] },
      spent,
    );
    expect(verdict.truncated).toContain("time_budget");
  });

  it("reports partial bodies", () => {
    const engine = compileEngine(settings([sqli]));
    const verdict = engine.newTransaction().inspectRequestBody(Buffer.from("a=1"), { last: true, complete: false }, never);
    expect(verdict.truncated).toEqual(["partial_body"]);
  });
});
