import { describe, expect, it } from "vitest";
import { patternByteBounds } from "./pattern-bounds.js";

describe("patternByteBounds", () => {
  it("counts literals, classes, repeats, alternations and groups in bytes", () => {
    expect(patternByteBounds("abc")).toEqual({ min: 3, max: 3 });
    expect(patternByteBounds("[0-9]{2,5}x?")).toEqual({ min: 2, max: 6 });
    expect(patternByteBounds("(?:ab|c{3})(?P<n>d|ef)")).toEqual({ min: 3, max: 5 });
    expect(patternByteBounds("é\\x{1F600}\\xff")).toEqual({ min: 8, max: 8 });
    expect(patternByteBounds("\\Qa.b\\E\\d\\w\\s\\.")).toEqual({ min: 7, max: 7 });
    expect(patternByteBounds("^\\bx\\B$\\A\\z")).toEqual({ min: 1, max: 1 });
    expect(patternByteBounds("a{2}{")).toEqual({ min: 3, max: 3 });
  });

  it("counts 4 bytes for anything that may be non-ASCII, and for letters under (?i)", () => {
    expect(patternByteBounds(".[^a]\\D\\pL\\p{Greek}[é]")).toEqual({ min: 6, max: 22 });
    expect(patternByteBounds("(?i)ks")).toEqual({ min: 2, max: 8 });
    expect(patternByteBounds("(?i:k)s")).toEqual({ min: 2, max: 5 });
    expect(patternByteBounds("[[:alpha:]][[:^alpha:]][a-z\\d-]")).toEqual({ min: 3, max: 6 });
  });

  it("reports unbounded and empty-matching patterns", () => {
    expect(patternByteBounds("a+").max).toBe(Infinity);
    expect(patternByteBounds("a*").min).toBe(0);
    expect(patternByteBounds("a{3,}").max).toBe(Infinity);
    expect(patternByteBounds("x|y?").min).toBe(0);
    expect(patternByteBounds("(?:^)*x")).toEqual({ min: 1, max: 1 });
  });
});
