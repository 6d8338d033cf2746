import { hexValue, type TransformContext } from "./transform-context.js";

/** `url_decode` leaves a value without these unchanged. */
export const URL_DECODE_CHANGES = /[%+]/;

/** Below this length plain string building beats allocating buffers. */
const SMALL = 256;

function percentDecodeSmall(input: string): string {
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

/** One pass of %XX and `+` decoding over a byte string; malformed escapes are kept as they are. */
export function percentDecodeOnce(input: string): string {
  if (!URL_DECODE_CHANGES.test(input)) return input;
  if (input.length <= SMALL) return percentDecodeSmall(input);
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

/** Something a %XX pass would still decode. */
const PERCENT_PENDING = /\+|%[0-9a-fA-F]{2}/;

/**
 * Repeats a decoding pass while `pending` says there is something left to decode, at most
 * `maxDecodePasses` times (a pattern test is much cheaper than a pass that changes nothing).
 */
export function decodeUntilStable(
  input: string,
  context: TransformContext,
  pass: (s: string) => string,
  pending: RegExp,
): string {
  let current = input;
  for (let i = 0; i < context.maxDecodePasses; i++) {
    if (!pending.test(current)) return current;
    current = pass(current);
  }
  if (pending.test(current)) context.decodePassesExhausted = true;
  return current;
}

/** `url_decode`: %XX and `+`, repeated until stable (double and triple encoding), bounded. */
export function urlDecode(input: string, context: TransformContext): string {
  return decodeUntilStable(input, context, percentDecodeOnce, PERCENT_PENDING);
}
