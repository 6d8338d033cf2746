import { describe, expect, it } from "vitest";
import { parseRuleDefinitions } from "../policy/rule-packs.js";
import { compileEngine, DEFAULT_ENGINE_SETTINGS } from "./compile-engine.js";
import { compileMatchFilter } from "./match-filters.js";
import { jsonPathName, parseTargetSelector, selectsValue, TARGET_LABELS, type TargetSource } from "./target-sources.js";
import type { Budget, MatchFilter, Transaction } from "./types.js";

const never: Budget = { exceeded: () => false };
const MARK = "zqzq";

/** One request carrying MARK in exactly one value, as a name, a value or a JSON key. */
interface Probe {
  readonly what: string;
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly form?: string;
  readonly json?: unknown;
}

const PROBES: readonly Probe[] = [
  { what: "query ?Q=", path: `/?Q=${MARK}` },
  { what: "query ?q[]=", path: `/?q[]=${MARK}` },
  { what: "query ?q[2]=", path: `/?q[2]=${MARK}` },
  { what: "query ?other=", path: `/?other=${MARK}` },
  { what: "query name", path: `/?${MARK}=1` },
  { what: "form q=", path: "/", form: `q=${MARK}` },
  { what: "form name", path: "/", form: `${MARK}=1` },
  { what: "JSON $.q", path: "/", json: { q: MARK } },
  { what: "JSON $.a.q[0]", path: "/", json: { a: { q: [MARK] } } },
  { what: "JSON $.A.b", path: "/", json: { A: { b: MARK } } },
  { what: "JSON key", path: "/", json: { [MARK]: 1 } },
  { what: "JSON key $.a.<mark>", path: "/", json: { a: { [MARK]: 1 } } },
  { what: "header x-q", path: "/", headers: { "x-q": MARK } },
  { what: "cookie q", path: "/", headers: { cookie: `q=${MARK}` } },
];

const TARGETS: readonly (readonly string[])[] = [
  ["args"],
  ["args:q"],
  ["args:Q[]"],
  ["query_args:q"],
  ["body_args:q"],
  ["json"],
  ["json:$.q"],
  ["json:$.a.q"],
  ["json:$.a.b"],
  ["args:b"],
  ["args_names"],
  [`args_names:${MARK}`],
  [`json_keys:${MARK}`],
  [`json_keys:$.a.${MARK}`],
  ["args", "!args:q"],
  ["headers:x-q"],
  ["request_cookies:q"],
];

/** Every source a probe puts MARK in, each once: the Cookie header is left to `cookies`. */
const EVERYWHERE = ["args", "args_names", "headers", "!headers:cookie", "header_names", "cookies", "cookie_names"];

function rule(id: string, targets: readonly string[]): unknown {
  return { id, message: id, category: "test", targets, transforms: [], regex: MARK, action: "log" };
}

function send(tx: Transaction, probe: Probe): string[] {
  const contentType = probe.json !== undefined ? "application/json" : probe.form !== undefined ? "application/x-www-form-urlencoded" : undefined;
  const headers = Object.entries({ ...probe.headers, ...(contentType ? { "content-type": contentType } : {}) }).map(([name, value]) => ({
    name,
    value: Buffer.from(value),
  }));
  const fired = tx.inspectRequestHeaders({ method: "POST", path: probe.path, authority: "a", scheme: "http", headers }, never).matches;
  const body = probe.json !== undefined ? JSON.stringify(probe.json) : probe.form;
  if (body === undefined) return fired.map((m) => m.ruleId);
  const more = tx.inspectRequestBody(Buffer.from(body), { last: true, complete: true }, never).matches;
  return [...fired, ...more].map((m) => m.ruleId);
}

describe("target selectors", () => {
  it("parse every label a match can carry, covering that label's source: events name what exclusions may target", () => {
    for (const [source, label] of Object.entries(TARGET_LABELS) as [TargetSource, string][]) {
      const selector = parseTargetSelector(`${label}:x`);
      expect(typeof selector === "string" ? selector : selector.sources, label).toContain(source);
    }
  });

  it("normalise names as values are looked up: lower case, array suffixes and indexes dropped", () => {
    expect(parseTargetSelector("args:Q[]")).toMatchObject({ name: "q" });
    expect(parseTargetSelector("json:$.Items[3].tags[0]")).toMatchObject({ name: "$.items.tags" });
    expect(parseTargetSelector("json_keys:$where")).toMatchObject({ name: "$where" });
    expect(jsonPathName("$.a[x].b[12]")).toBe("$.a[x].b");
  });

  it("read a quoted JSON key as one name: its brackets are not indexes, its dots not steps", () => {
    // Keys holding path syntax are quoted by the JSON parser: `{"x.q[0]": …}` is `$['x.q[0]']`.
    expect(jsonPathName("$['x.q[0]']")).toBe("$['x.q[0]']");
    expect(jsonPathName("$['x[7].q'][2]")).toBe("$['x[7].q']");
    expect(jsonPathName("$.a['it\\'s[1]'][3].b[4]")).toBe("$.a['it\\'s[1]'].b");
    const exact = [parseTargetSelector("json:$['x.q']")].filter((s) => typeof s !== "string");
    for (const key of ["x.q[0]", "x.q[12]", "x[7].q"]) expect(selectsValue(exact, "json", `$['${key}']`), key).toBe(false);
    expect(selectsValue(exact, "json", "$['x.q']")).toBe(true);
    expect(selectsValue(exact, "json", "$['x.q'][3]")).toBe(true);
  });

  it("look a quoted JSON key up by itself, less an array suffix as a query name is, never by what follows a dot", () => {
    const named = (name: string) => [parseTargetSelector(`args:${name}`)].filter((s) => typeof s !== "string");
    expect(selectsValue(named("q"), "json", "$['x.q']")).toBe(false);
    expect(selectsValue(named("x.q"), "json", "$['x.q']")).toBe(true);
    expect(selectsValue(named("x.q"), "json", "$.a['x.q'][0][1]")).toBe(true);
    // As `tags[]=` in a query is `tags`, so is a JSON key "tags[]".
    expect(selectsValue(named("tags"), "json", "$['tags[]']")).toBe(true);
    // A quote or a bracket at the key's edge does not shift where it starts.
    expect(selectsValue(named("q"), "json", "$['q[']")).toBe(true);
    expect(selectsValue(named("a'b"), "json", "$['a\\'b']")).toBe(true);
    expect(selectsValue(named("a\\"), "json", "$['a\\\\']")).toBe(true);
  });

  it("args_names:NAME selects that name in queries, forms and JSON keys alike", () => {
    const engine = compileEngine({ ...DEFAULT_ENGINE_SETTINGS, rules: parseRuleDefinitions([rule("names", [`args_names:${MARK}`])], "test") });
    const names = PROBES.filter((p) => p.what.includes("name") || p.what.startsWith("JSON key"));
    for (const probe of names) expect(send(engine.newTransaction(), probe), probe.what).toEqual(["names"]);
    for (const probe of PROBES.filter((p) => !names.includes(p))) expect(send(engine.newTransaction(), probe), probe.what).toEqual([]);
  });

  it("a JSON path selects the values at that path (array elements included) and no other", () => {
    const engine = compileEngine({ ...DEFAULT_ENGINE_SETTINGS, rules: parseRuleDefinitions([rule("path", ["json:$.A.q"])], "test") });
    const fired = PROBES.filter((probe) => send(engine.newTransaction(), probe).length > 0).map((p) => p.what);
    expect(fired).toEqual(["JSON $.a.q[0]"]);
  });

  // What a rule on some targets scans and what an exclusion on the same targets covers are one
  // thing: for every pair, the rule fires exactly when the exclusion drops a catch-all's match.
  it.each(TARGETS.map((targets) => [targets.join(", "), targets] as const))("an exclusion on [%s] covers what a rule on it scans", (_, targets) => {
    const rules = parseRuleDefinitions([rule("scoped", targets), rule("catch-all", EVERYWHERE)], "test");
    const engine = compileEngine({ ...DEFAULT_ENGINE_SETTINGS, rules });
    const exclusion: MatchFilter = compileMatchFilter({ rules: ["catch-all"], targets });
    for (const probe of PROBES) {
      const scanned = send(engine.newTransaction(), probe);
      expect(scanned, probe.what).toContain("catch-all");
      const covered = !send(engine.newTransaction({ exclusions: [exclusion] }), probe).includes("catch-all");
      expect(covered, `${probe.what}: covered`).toBe(scanned.includes("scoped"));
    }
  });
});
