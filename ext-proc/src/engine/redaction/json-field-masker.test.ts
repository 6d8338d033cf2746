import { describe, expect, it } from "vitest";
import { JsonFieldMasker, JsonFieldNames } from "./json-field-masker.js";
import type { RedactionHit } from "./redaction-types.js";

function maskJson(text: string, fields: string[], chunkSize = Infinity): { text: string; hits: RedactionHit[] } {
  const masker = new JsonFieldMasker(new JsonFieldNames(new Set(fields)), 0x2a);
  const body = Buffer.from(text);
  const out = Buffer.from(body);
  const hits: RedactionHit[] = [];
  const step = Math.min(chunkSize, body.length || 1);
  for (let at = 0; at < body.length; at += step) {
    const end = Math.min(at + step, body.length);
    masker.mask(body.subarray(at, end), out.subarray(at, end), at, hits);
  }
  masker.finish(body.length, hits);
  return { text: out.toString(), hits };
}

describe("JsonFieldMasker", () => {
  it("masks string values whole, keeping quotes, length and validity", () => {
    const text = '{"user":"ann","Password":"p\\"w\\u00e9\\\\","nested":{"PASSWORD" : "x"}}';
    const { text: out, hits } = maskJson(text, ["password"]);
    const stars = "*".repeat(12);
    expect(out).toBe(`{"user":"ann","Password":"${stars}","nested":{"PASSWORD" : "*"}}`);
    expect(JSON.parse(out)).toEqual({ user: "ann", Password: stars, nested: { PASSWORD: "*" } });
    expect(hits).toEqual([
      { detector: "json-field", offset: 25, length: 14 },
      { detector: "json-field", offset: text.indexOf('"x"'), length: 3 },
    ]);
  });

  it("replaces numbers by 0 and booleans by null, padded to the same length", () => {
    const { text } = maskJson('{"pin": 12345, "ok": true,"no":false, "n": null, "e": -1.5e3}', ["pin", "ok", "no", "n", "e"]);
    expect(text).toBe('{"pin": 0    , "ok": null,"no":null , "n": null, "e": 0     }');
    expect(JSON.parse(text)).toEqual({ pin: 0, ok: null, no: null, n: null, e: 0 });
  });

  it("masks every string and scalar inside an object or array value, keeping its structure", () => {
    const text = '{"secret": {"a": ["xy", 12, {"b": true}]}, "keep": "me", "token": ["t1"]}';
    const { text: out, hits } = maskJson(text, ["secret", "token"]);
    expect(out).toBe('{"secret": {"*": ["**", 0 , {"*": null}]}, "keep": "me", "token": ["**"]}');
    expect(JSON.parse(out)).toBeTruthy();
    expect(hits.map((h) => text.slice(h.offset, h.offset + h.length))).toEqual(['{"a": ["xy", 12, {"b": true}]}', '["t1"]']);
  });

  it("does not take a value or an array element for a key", () => {
    const text = '{"note": "password", "list": ["password", "x"], "password": "y"}';
    expect(maskJson(text, ["password"]).text).toBe('{"note": "password", "list": ["password", "x"], "password": "*"}');
  });

  it("gives the same output for any chunking, one byte at a time included", () => {
    const text = '{"a":[1,{"Token":"abc\\"def","n":[true,"z"]}],"token" : 987654321 ,"x":"token"}';
    const whole = maskJson(text, ["token"]);
    for (const size of [1, 2, 3, 7]) expect(maskJson(text, ["token"], size)).toEqual(whole);
  });

  it("masks and skips long strings the same way, escapes past the first bytes included, for any chunking", () => {
    const long = `${"lorem ipsum ".repeat(6)}\\"quoted\\" ${"x".repeat(40)}\\u00e9 end`;
    const text = `[{"note":"${long}","password":"${long}","n":"${"y".repeat(100)}\\\\"},{"token":"${"z".repeat(60)}"}]`;
    const whole = maskJson(text, ["password", "token"]);
    const parsed = JSON.parse(whole.text) as [{ note: string; password: string; n: string }, { token: string }];
    expect(parsed[0].note).toBe(JSON.parse(`"${long}"`));
    expect(parsed[0].password).toBe("*".repeat(long.length));
    expect(parsed[0].n).toBe(`${"y".repeat(100)}\\`);
    expect(parsed[1].token).toBe("*".repeat(60));
    expect(whole.hits).toHaveLength(2);
    for (const size of [1, 5, 23, 24, 25, 64]) expect(maskJson(text, ["password", "token"], size)).toEqual(whole);
  });

  it("survives malformed and truncated JSON, reporting a value cut short", () => {
    expect(maskJson('{"password": "abc', ["password"])).toEqual({
      text: '{"password": "***',
      hits: [{ detector: "json-field", offset: 13, length: 4 }],
    });
    expect(maskJson("]]}}{{\"password\"::,\"password\": tru", ["password"]).text).toBe(']]}}{{"password"::,"password": nul');
    expect(maskJson("\u00ff\u0000not json", ["password"]).text).toBe("\u00ff\u0000not json");
  });
});
