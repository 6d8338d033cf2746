/**
 * Property tests: the prefilters the engine relies on must be exact or conservative. A
 * transformation's `changesOnly` may only skip values the transformation really leaves alone,
 * and scanning values joined together must find exactly what scanning them one by one finds.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileEngine } from "../../ext-proc/src/engine/compile-engine.js";
import { TRANSFORMATIONS } from "../../ext-proc/src/engine/transformations/registry.js";
import type { TransformContext } from "../../ext-proc/src/engine/transformations/transform-context.js";
import { percentDecodeOnce } from "../../ext-proc/src/engine/transformations/url-decode.js";
import { defaultEngineSettings } from "../support/default-engine-settings.js";

const FRAGMENTS = [
  "a", "Z", "0", " ", "  ", "\t", "\n", "\r", "\0", "%", "%2", "%41", "%u0041", "%c0%ae", "+", "&", "&lt;", "&#60;",
  "\\", "\\x41", "\\u0041", "/", "//", "./", "../", "/*", "*/", "'", '"', "^", ",", "$", "$IFS", "\u00a0", "\u00c0", "\u00e9",
  "<script>", "union select", "or 1=1", ";cat /etc/passwd", "${jndi:", "{{7*7}}", "javascript:", "onerror=",
];
const byteString = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 12 }).map((parts) => parts.join(""));
const anyLatin1 = fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 40 });

describe("transformation prefilters", () => {
  for (const [name, transformation] of TRANSFORMATIONS) {
    const changesOnly = transformation.changesOnly;
    if (!changesOnly) continue;
    it(`${name} leaves every value its changesOnly pattern does not match unchanged`, () => {
      fc.assert(
        fc.property(fc.oneof(byteString, anyLatin1), (value) => {
          const context: TransformContext = { maxDecodePasses: 4, decodePassesExhausted: false };
          if (!changesOnly.test(value)) expect(transformation.apply(value, context)).toBe(value);
        }),
        { numRuns: 2000 },
      );
    });
  }

  it("changesOnly patterns carry no flags (scan plans join them by source)", () => {
    for (const transformation of TRANSFORMATIONS.values()) expect(transformation.changesOnly?.flags ?? "").toBe("");
  });

  it("percentDecodeOnce agrees with a straightforward decoder", () => {
    const reference = (s: string): string =>
      s.replace(/\+|%([0-9a-fA-F]{2})/g, (_whole, hex: string | undefined) => (hex === undefined ? " " : String.fromCharCode(Number.parseInt(hex, 16))));
    fc.assert(
      fc.property(fc.oneof(byteString, anyLatin1), (value) => {
        expect(percentDecodeOnce(value)).toBe(reference(value));
      }),
      { numRuns: 3000 },
    );
  });
});

describe("joined scanning", () => {
  const engine = compileEngine(defaultEngineSettings());
  const never = { exceeded: () => false };
  const fired = (query: string): string[] => {
    const verdict = engine.newTransaction().inspectRequestHeaders({ method: "GET", path: `/?${query}`, authority: "a", scheme: "http", headers: [] }, never);
    return verdict.matches.map((m) => m.ruleId).sort();
  };

  it("a request with many arguments fires exactly the rules its arguments fire one by one", () => {
    fc.assert(
      fc.property(fc.array(byteString, { minLength: 2, maxLength: 6 }), (values) => {
        const encoded = values.map((v, i) => `a${i}=${encodeURIComponent(v)}`);
        const alone = new Set(encoded.flatMap((pair) => fired(pair)));
        expect(fired(encoded.join("&"))).toEqual([...alone].sort());
      }),
      { numRuns: 400 },
    );
  });
});
