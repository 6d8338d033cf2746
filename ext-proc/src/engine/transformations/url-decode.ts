import { hexValue, type TransformContext } from "./transform-context.js";

/** `url_decode` leaves a value without these unchanged. */
export const URL_DECODE_CHANGES = /[%+]/;

/** One pass of %XX and `+` decoding over a byte string; malformed escapes are kept as they are. */
export function percentDecodeOnce(input: string): string {
  if (input.indexOf("%") < 0 && input.indexOf("+") < 0) return input;
  // A byte loop over a buffer: linear, and no string building however dense the escapes are.
  const bytes = Buffer.from(input, "latin1");
  const out = Buffer.allocUnsafe(bytes.length);
  let o = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i] ?? 0;
    if (c === 43) {
      out[o++] = 32;
      continue;
    }
    if (c === 37 && i + 2 < bytes.length) {
      const hi = hexValue(bytes[i + 1] ?? 0);
      const lo = hexValue(bytes[i + 2] ?? 0);
      if (hi >= 0 && lo >= 0) {
        out[o++] = hi * 16 + lo;
        i += 2;
        continue;
      }
    }
    out[o++] = c;
  }
  return out.toString("latin1", 0, o);
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
