import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeJsonFragment, JsonScanner, parseJson } from "./json-parser.js";
import { RecordingSink } from "./test-sink.js";

describe("parseJson", () => {
  it("emits keys and string leaves with their paths; numbers are validated, not emitted", () => {
    const sink = new RecordingSink();
    expect(parseJson('{"user":{"name":"a\\u0027b","tags":["x",2,true,null,"y"]},"n":-1.5e3}', 64, sink)).toBe("complete");
    expect(sink.of("json")).toEqual([
      ["$.user.name", "a'b"],
      ["$.user.tags[0]", "x"],
      ["$.user.tags[4]", "y"],
    ]);
    expect(parseJson('{"n":1e}', 64, new RecordingSink())).toBe("unparsable_body");
    expect(parseJson('{"n":01}', 64, new RecordingSink())).toBe("unparsable_body");
    expect(sink.of("json_keys").map(([, k]) => k)).toEqual(["user", "name", "tags", "n"]);
  });

  it("names keys and values of objects inside arrays by their full path, in one feed or split anywhere", () => {
    const text = '[{"a":"x","b":[{"c":"y"}]},{},{"d":{"e":"z"}}]';
    const expected = {
      keys: ["$[0].a", "$[0].b", "$[0].b[0].c", "$[2].d", "$[2].d.e"],
      values: [["$[0].a", "x"], ["$[0].b[0].c", "y"], ["$[2].d.e", "z"]],
    };
    const whole = new RecordingSink();
    expect(parseJson(text, 64, whole)).toBe("complete");
    expect(whole.of("json_keys").map(([path]) => path)).toEqual(expected.keys);
    expect(whole.of("json")).toEqual(expected.values);
    for (let cut = 1; cut < text.length; cut++) {
      const sink = new RecordingSink();
      const scanner = new JsonScanner(64, sink);
      expect(scanner.feed(text.slice(0, cut), 0, false)).toBeUndefined();
      const at = scanner.resumeAt;
      expect(scanner.feed(text.slice(at), at, true), `cut at ${cut}`).toBe("complete");
      expect(sink.of("json_keys").map(([path]) => path), `cut at ${cut}`).toEqual(expected.keys);
      expect(sink.of("json"), `cut at ${cut}`).toEqual(expected.values);
    }
  });

  it("skips containers deeper than the limit and says so", () => {
    const sink = new RecordingSink();
    expect(parseJson('{"a":{"b":{"c":"deep"}},"d":"shallow"}', 2, sink)).toBe("json_depth");
    expect(sink.of("json")).toEqual([["$.d", "shallow"]]);
  });

  it("does not recurse: 100k nested arrays neither crash nor stall", () => {
    const sink = new RecordingSink();
    const deep = "[".repeat(100_000) + '"x"' + "]".repeat(100_000);
    const started = performance.now();
    expect(parseJson(deep, 64, sink)).toBe("json_depth");
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("reports broken JSON and keeps what came before the error", () => {
    const sink = new RecordingSink();
    expect(parseJson('{"a":"1","b":tru', 64, sink)).toBe("unparsable_body");
    expect(sink.of("json")).toEqual([["$.a", "1"]]);
    expect(parseJson('{"a":"unterminated', 64, new RecordingSink())).toBe("unparsable_body");
    expect(parseJson('{"a":"\\u12"}', 64, new RecordingSink())).toBe("unparsable_body");
    expect(parseJson("[1,2", 64, new RecordingSink())).toBe("unparsable_body");
  });

  it("streamed, reports a malformed escape at once instead of waiting for more text", () => {
    // A string that is complete but invalid cannot be mended by the next chunk: waiting would leave
    // the rest of the body unparsed, its names unseen by name-based rules and exclusions.
    const scanner = new JsonScanner(64, new RecordingSink());
    expect(scanner.feed('{"a":"\\u12zz","b":"', 0, false)).toBe("unparsable_body");
    // An escape cut by the end of the text is only incomplete.
    expect(new JsonScanner(64, new RecordingSink()).feed('{"a":"x\\u12', 0, false)).toBeUndefined();
  });

  it("stops at the sink's limit", () => {
    const sink = new RecordingSink(3);
    expect(parseJson('["a","b","c","d","e"]', 64, sink)).toBe("argument_limit");
    expect(sink.values).toHaveLength(3);
  });

  it("reads every ASCII string JSON.stringify writes, escapes included", () => {
    const ascii = fc.string({ unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)), maxLength: 60 });
    fc.assert(
      fc.property(ascii, ascii, (key, value) => {
        const sink = new RecordingSink();
        expect(parseJson(JSON.stringify({ [key]: [value] }), 64, sink)).toBe("complete");
        // A key holding path syntax is quoted in brackets, with its quotes and backslashes escaped.
        const step = /[.[\]'\\]/.test(key) ? `['${key.replace(/['\\]/g, "\\$&")}']` : `.${key}`;
        expect(sink.of("json")).toEqual([[`$${step}[0]`, value]]);
      }),
      { numRuns: 2000 },
    );
  });

  it("accepts exactly the literals JSON.parse accepts: numbers, true, false, null", () => {
    // The number check is a hand-written reader of JSON's number grammar; JSON.parse is the oracle.
    const literal = fc.oneof(
      fc.string({ unit: fc.constantFrom("-", "+", ".", "e", "E", "0", "1", "9"), minLength: 1, maxLength: 9 }),
      fc.constantFrom("true", "false", "null", "tru", "nulll", "True", "-0", "0.0e-0", "1E+2", "1.e5", ".5", "01", "-"),
    );
    fc.assert(
      fc.property(literal, fc.boolean(), fc.nat(), (text, inObject, cutSeed) => {
        const document = inObject ? `{"k":${text}}` : `[${text}]`;
        let valid = true;
        try {
          JSON.parse(document);
        } catch {
          valid = false;
        }
        const expected = valid ? "complete" : "unparsable_body";
        expect(parseJson(document, 64, new RecordingSink()), document).toBe(expected);
        // Streamed, cut anywhere (inside the literal too): the same outcome once the rest arrives.
        const cut = cutSeed % (document.length + 1);
        const scanner = new JsonScanner(64, new RecordingSink());
        const first = scanner.feed(document.slice(0, cut), 0, false);
        const at = scanner.resumeAt;
        const outcome = first ?? scanner.feed(document.slice(at), at, true);
        expect(outcome, `${document} cut at ${cut}`).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it("quotes keys that hold path syntax, so that no key reads as a nested path", () => {
    const sink = new RecordingSink();
    const document = { "x.q": "1", a: { "b[0]": "2", "it's": "3", "back\\slash": "4", "c]": "6" }, plain: { q: "5" } };
    expect(parseJson(JSON.stringify(document), 64, sink)).toBe("complete");
    expect(sink.of("json").map(([path]) => path)).toEqual(["$['x.q']", "$.a['b[0]']", "$.a['it\\'s']", "$.a['back\\\\slash']", "$.a['c]']", "$.plain.q"]);
  });

  it("reads many strings in one document, plain ones and escaped ones in any order", () => {
    // Strings without a backslash are cut out without decoding: the parser remembers where the next
    // backslash is. Mixing both kinds checks that it never skips an escape.
    const piece = fc.oneof(fc.constantFrom("plain", "", "x y", '"', "\\", "\n", "a\"b", "\\\"", "é"), fc.string({ maxLength: 8 }));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (values) => {
        const sink = new RecordingSink();
        expect(parseJson(bytes(JSON.stringify(values)), 64, sink)).toBe("complete");
        expect(sink.of("json").map(([, v]) => v)).toEqual(values.map(bytes));
      }),
      { numRuns: 2000 },
    );
  });
});

/** Text as the engine holds it: its UTF-8 bytes, one char each (a lone surrogate becomes U+FFFD). */
const bytes = (text: string): string => Buffer.from(text, "utf8").toString("latin1");
/** Every UTF-16 unit of `text` as a `\uXXXX` escape: what a client that escapes everything sends. */
const escapeAll = (text: string): string =>
  Array.from({ length: text.length }, (_, i) => `\\u${text.charCodeAt(i).toString(16).padStart(4, "0")}`).join("");

/** Any UTF-16 text: lone and paired surrogates, quotes, backslashes and control characters too. */
const anyText = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom("\ud83d", "\ude00", "\ud83d\ude00", '"', "\\", "\n", "\u0000", "é"),
  ),
  maxLength: 40,
});

describe("JSON string escapes", () => {
  it("decode surrogate pairs to one code point and lone surrogates to U+FFFD", () => {
    expect(decodeJsonFragment("a\\ud83d\\ude00b")).toBe(bytes("a\u{1f600}b"));
    expect(decodeJsonFragment("\\ud83dx\\ude00")).toBe(bytes("\ufffdx\ufffd"));
    expect(decodeJsonFragment("\\u00e9\\/\\q")).toBe(bytes("é/q"));
  });

  it("keep a fragment's cut escape as it is", () => {
    expect(decodeJsonFragment("abc\\u00")).toBe("abc\\u00");
    expect(decodeJsonFragment("abc\\")).toBe("abc\\");
  });

  it("decode a fragment of any JSON.stringify output to the string's bytes, as the whole-string reader does", () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const expected = bytes(text);
        for (const quoted of [JSON.stringify(text), `"${escapeAll(text)}"`]) {
          expect(decodeJsonFragment(bytes(quoted.slice(1, -1)))).toBe(expected);
          const sink = new RecordingSink();
          expect(parseJson(bytes(`[${quoted}]`), 64, sink)).toBe("complete");
          expect(sink.of("json")).toEqual([["$[0]", expected]]);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
