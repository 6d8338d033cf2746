import { hexValue, type TransformContext } from "./transform-context.js";

/** One pass of %XX and `+` decoding; malformed escapes are kept as they are. */
export function percentDecodeOnce(input: string): string {
  if (input.indexOf("%") < 0 && input.indexOf("+") < 0) return input;
  let out = "";
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    if (c === 43) {
      out += input.slice(start, i) + " ";
      start = i + 1;
    } else if (c === 37 && i + 2 < input.length) {
      const hi = hexValue(input.charCodeAt(i + 1));
      const lo = hexValue(input.charCodeAt(i + 2));
      if (hi >= 0 && lo >= 0) {
        out += input.slice(start, i) + String.fromCharCode(hi * 16 + lo);
        i += 2;
        start = i + 1;
      }
    }
  }
  return out + input.slice(start);
}

/** Repeats a decoding pass until the value is stable, at most `maxDecodePasses` times. */
export function decodeUntilStable(input: string, context: TransformContext, pass: (s: string) => string): string {
  let current = input;
  for (let i = 0; i < context.maxDecodePasses; i++) {
    const next = pass(current);
    if (next === current) return current;
    current = next;
  }
  if (pass(current) !== current) context.decodePassesExhausted = true;
  return current;
}

/** `url_decode`: %XX and `+`, repeated until stable (double and triple encoding), bounded. */
export function urlDecode(input: string, context: TransformContext): string {
  return decodeUntilStable(input, context, percentDecodeOnce);
}
