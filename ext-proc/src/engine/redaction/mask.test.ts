import { describe, expect, it } from "vitest";
import { applyMask, keepFrom, maskableAt } from "./mask.js";

function masked(text: string, start: number, end: number, keepLast: number): string {
  const body = Buffer.from(text);
  const out = Buffer.from(body);
  applyMask(out, 0, body, 0, { start, end, keepFrom: keepFrom(body, start, end, keepLast) }, 0x2a);
  return out.toString();
}

describe("mask", () => {
  it("masks letters, digits and non-ASCII bytes and keeps punctuation", () => {
    expect(masked("4111-1111-1111-1111", 0, 19, 4)).toBe("****-****-****-1111");
    expect(masked("pässwörd!", 0, 11, 0)).toBe(`${"*".repeat(10)}!`);
  });

  it("keeps backslash escapes whole so JSON strings stay valid", () => {
    const text = String.raw`"ab\ncd\u00e9f\"g"`;
    const out = masked(text, 1, text.length - 1, 0);
    expect(out).toBe(String.raw`"**\n**\u00e9*\"*"`);
    expect(() => JSON.parse(out)).not.toThrow();
    expect(maskableAt(Buffer.from(String.raw`\u0041`), 5)).toBe(false);
    expect(maskableAt(Buffer.from("u0041"), 4)).toBe(true);
  });

  it("never shows more than half of a secret, nor half of a UTF-8 character", () => {
    expect(masked("abcdef", 0, 6, 4)).toBe("***def");
    expect(masked("ab", 0, 2, 8)).toBe("*b");
    const body = Buffer.from("aaaaé");
    expect(keepFrom(body, 0, body.length, 1)).toBe(body.length);
  });
});
