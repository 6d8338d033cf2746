import { codePointToBytes } from "./transform-context.js";

/** `js_decode` leaves a value without these unchanged. */
export const JS_DECODE_CHANGES = /\\/;

const SIMPLE: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t", b: "\b", f: "\f", v: "\v", 0: "\0" };

const ESCAPE = /\\(?:u\{([0-9a-fA-F]{1,6})\}|u([0-9a-fA-F]{4})|x([0-9a-fA-F]{2})|([0-7]{1,3})|(.))/gs;

/** `js_decode`: JavaScript/JSON escapes `\uXXXX`, `\u{X}`, `\xXX`, octal and single-char escapes. */
export function jsDecode(input: string): string {
  if (!JS_DECODE_CHANGES.test(input)) return input;
  return input.replace(
    ESCAPE,
    (_w, brace: string | undefined, u4: string | undefined, x2: string | undefined, oct: string | undefined, ch: string | undefined) => {
      const hex = brace ?? u4 ?? x2;
      if (hex !== undefined) {
        const codePoint = Number.parseInt(hex, 16);
        return codePoint <= 0x10ffff ? codePointToBytes(codePoint) : "";
      }
      if (oct !== undefined) return String.fromCharCode(Number.parseInt(oct, 8) & 0xff);
      return SIMPLE[ch ?? ""] ?? ch ?? "";
    },
  );
}
