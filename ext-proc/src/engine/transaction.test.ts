import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseRuleDefinitions } from "../policy/rule-packs.js";
import { compileEngine, DEFAULT_ENGINE_SETTINGS } from "./compile-engine.js";
import { sortedNames } from "./transaction.js";
import type { Budget, RequestHead } from "./types.js";

const never: Budget = { exceeded: () => false };
const rules = parseRuleDefinitions(
  [
    { id: "req", category: "sqli", targets: ["args", "body"], transforms: ["url_decode"], regex: "union\\s+select" },
    { id: "leak", category: "data-leakage", severity: "error", phase: "response_body", targets: ["response_body"], transforms: [], regex: "SQLSTATE\\[" },
    { id: "hdr", category: "protocol", severity: "notice", phase: "response_headers", targets: ["status"], transforms: [], regex: "^5\\d\\d$" },
  ],
  "test",
);
const engine = compileEngine({ ...DEFAULT_ENGINE_SETTINGS, rules });
const post = (contentType: string): RequestHead => ({
  method: "POST",
  path: "/",
  authority: "a",
  scheme: "http",
  headers: [{ name: "content-type", value: Buffer.from(contentType) }],
});

describe("EngineTransaction", () => {
  it("keeps inbound and outbound scores apart and a deny sticky", () => {
    const tx = engine.newTransaction();
    expect(tx.inspectRequestHeaders({ ...post("text/plain"), path: "/?q=union+select" }, never)).toMatchObject({ action: "deny", score: 5 });
    expect(tx.inspectRequestBody(Buffer.from("nothing"), { last: true, complete: true }, never)).toMatchObject({ action: "deny", score: 5, matches: [] });
    expect(tx.inspectResponseHeaders({ status: 503, headers: [] }, never)).toMatchObject({ action: "log", score: 2 });
    expect(tx.inspectResponseBody(Buffer.from("SQLSTATE[42000]"), { last: true, complete: true }, never)).toMatchObject({
      action: "deny",
      score: 6,
      matches: [{ ruleId: "leak", phase: "response_body", target: "response_body" }],
    });
  });

  it("scans a raw body byte for byte, ASCII or not, from one chunk or several", () => {
    // An ASCII body in one chunk is scanned from its own bytes; any other is encoded from its byte
    // string (one code point per byte). Both must give the rules the same view.
    const byteRules = parseRuleDefinitions(
      [
        { id: "latin1", category: "test", targets: ["body"], transforms: [], regex: "caf\\xe9" },
        { id: "ascii", category: "test", targets: ["body"], transforms: [], regex: "cafe!" },
      ],
      "test",
    );
    const bytesEngine = compileEngine({ ...DEFAULT_ENGINE_SETTINGS, rules: byteRules });
    const fired = (...chunks: Buffer[]): string[] => {
      const tx = bytesEngine.newTransaction();
      tx.inspectRequestHeaders(post("text/plain"), never);
      const ids: string[] = [];
      chunks.forEach((chunk, i) => {
        const last = i === chunks.length - 1;
        ids.push(...tx.inspectRequestBody(chunk, { last, complete: true }, never).matches.map((m) => m.ruleId));
      });
      return ids.sort();
    };
    const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9]);
    expect(fired(latin1)).toEqual(["latin1"]);
    expect(fired(latin1.subarray(0, 2), latin1.subarray(2))).toEqual(["latin1"]);
    // U+00E9 sent as UTF-8 is two bytes, neither of them 0xe9.
    expect(fired(Buffer.from("café", "utf8"))).toEqual([]);
    expect(fired(Buffer.from("cafe!"))).toEqual(["ascii"]);
    expect(fired(Buffer.from("ca"), Buffer.from("fe!"))).toEqual(["ascii"]);
  });

  it("finds a response leak split across chunks", () => {
    const tx = engine.newTransaction();
    tx.inspectResponseHeaders({ status: 200, headers: [] }, never);
    expect(tx.inspectResponseBody(Buffer.from("x".repeat(5000) + "SQLST"), { last: false, complete: true }, never).action).toBe("allow");
    expect(tx.inspectResponseBody(Buffer.from("ATE[HY000]"), { last: true, complete: true }, never).action).toBe("deny");
  });

  it("inspects many small streamed chunks and parses the whole body at the end", () => {
    const tx = engine.newTransaction();
    tx.inspectRequestHeaders(post("application/json"), never);
    const body = Buffer.from(JSON.stringify({ pad: "p".repeat(20_000), q: "union select" }));
    let last = tx.inspectRequestBody(Buffer.alloc(0), { last: false, complete: true }, never);
    for (let at = 0; at < body.length; at += 700) {
      last = tx.inspectRequestBody(body.subarray(at, at + 700), { last: at + 700 >= body.length, complete: true }, never);
    }
    expect(last.action).toBe("deny");
  });

  const undecodable: [string, string, Buffer][] = [
    ["invalid UTF-8 in a form", "application/x-www-form-urlencoded", Buffer.from([0x71, 0x3d, 0xff, 0xfe, 0xc0, 0x80, 0x25, 0x7a])],
    ["bad percent-encoding", "application/x-www-form-urlencoded", Buffer.from("q=%zz%2%%%u12&%=%")],
    ["broken JSON", "application/json", Buffer.from('{"a":[1,2,{"b":"\\u12')],
    ["a multipart body without its boundary", "multipart/form-data; boundary=zzz", Buffer.from("--other\r\nContent-Disposition: form-data\r\n\r\nx")],
    ["a multipart type without a boundary", "multipart/form-data", Buffer.from("whatever")],
    ["truncated XML", "application/xml", Buffer.from("<a><b attr='x")],
    ["binary data", "application/octet-stream", Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) & 0xff))],
  ];
  for (const [what, type, body] of undecodable) {
    it(`answers for ${what} without throwing`, () => {
      const tx = engine.newTransaction();
      tx.inspectRequestHeaders(post(type), never);
      const verdict = tx.inspectRequestBody(body, { last: true, complete: true }, never);
      expect(["allow", "log"]).toContain(verdict.action);
    });
  }

  it("reports unparsable bodies but still inspects their text", () => {
    const tx = engine.newTransaction();
    tx.inspectRequestHeaders(post("multipart/form-data; boundary=zzz"), never);
    const verdict = tx.inspectRequestBody(Buffer.from("no boundary here, union select"), { last: true, complete: true }, never);
    expect(verdict).toMatchObject({ action: "deny", truncated: ["unparsable_body"] });
  });

  it("flags JSON nested deeper than the limit and multipart parts past the limit", () => {
    const limits = { ...DEFAULT_ENGINE_SETTINGS.limits, maxJsonDepth: 3, maxMultipartParts: 1 };
    const limited = compileEngine({ ...DEFAULT_ENGINE_SETTINGS, rules, limits });
    const json = limited.newTransaction();
    json.inspectRequestHeaders(post("application/json"), never);
    expect(json.inspectRequestBody(Buffer.from('{"a":{"b":{"c":{"d":"x"}}}}'), { last: true, complete: true }, never).truncated).toEqual(["json_depth"]);
    const multipart = limited.newTransaction();
    multipart.inspectRequestHeaders(post("multipart/form-data; boundary=b"), never);
    const parts = '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--b\r\nContent-Disposition: form-data; name="c"\r\n\r\n2\r\n--b--';
    expect(multipart.inspectRequestBody(Buffer.from(parts), { last: true, complete: true }, never).truncated).toEqual(["multipart_parts"]);
  });

  it("reports decoding that did not settle within the pass limit", () => {
    const limits = { ...DEFAULT_ENGINE_SETTINGS.limits, maxDecodePasses: 1 };
    const limited = compileEngine({ ...DEFAULT_ENGINE_SETTINGS, rules, limits });
    const verdict = limited.newTransaction().inspectRequestHeaders({ ...post("text/plain"), path: "/?q=%252527" }, never);
    expect(verdict.truncated).toContain("decode_passes");
  });

  it("remembers only clean values: what matched once matches again, truncation is reported again", () => {
    const limits = { ...DEFAULT_ENGINE_SETTINGS.limits, maxDecodePasses: 1 };
    const memo = compileEngine({ ...DEFAULT_ENGINE_SETTINGS, rules, limits });
    const request = (query: string) => memo.newTransaction().inspectRequestHeaders({ ...post("text/plain"), path: `/?${query}` }, never);
    for (let round = 0; round < 3; round++) {
      expect(request("q=union+select&ua=same").action).toBe("deny");
      expect(request("ua=same").action).toBe("allow");
      expect(request("q=%252527").truncated).toContain("decode_passes");
    }
  });

  it("sees the request's header names sorted and comma-joined, however many and in whatever order they came", () => {
    for (const count of [3, 12, 40]) {
      const names = Array.from({ length: count }, (_, i) => `h${String(i).padStart(2, "0")}`);
      const list = parseRuleDefinitions(
        [{ id: "list", category: "protocol", targets: ["header_name_list"], transforms: [], regex: `^${names.join(",")}$` }],
        "test",
      );
      // Rotated by one: out of order for every count.
      const arrived = [...names.slice(1), names[0]!];
      const head: RequestHead = { method: "GET", path: "/", authority: "a", scheme: "http", headers: arrived.map((name) => ({ name, value: Buffer.from("v") })) };
      const verdict = compileEngine({ ...DEFAULT_ENGINE_SETTINGS, rules: list }).newTransaction().inspectRequestHeaders(head, never);
      expect(verdict.matches.map((m) => m.ruleId), `${count} headers`).toEqual(["list"]);
    }
  });
});

describe("sortedNames", () => {
  it("orders any names as Array.prototype.sort does, in place, on both sides of the insertion-sort bound", () => {
    const unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
    const name = fc.oneof(fc.constantFrom("content-length", "transfer-encoding", "a", "A", ""), fc.string({ unit, maxLength: 6 }));
    fc.assert(
      fc.property(fc.array(name, { maxLength: 40 }), (names) => {
        const expected = [...names].sort();
        const sorted = sortedNames(names);
        expect(sorted).toBe(names);
        expect(sorted).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

