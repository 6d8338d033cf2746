/**
 * Values flow through the engine as byte strings: one char per byte (latin1), so any input,
 * valid UTF-8 or not, survives decoding unchanged and scans as bytes.
 */
export interface TransformContext {
  /** Upper bound on repeated decoding passes (URL decoding until stable). */
  readonly maxDecodePasses: number;
  /** Set by a transformation that stopped at `maxDecodePasses` while its output still changed. */
  decodePassesExhausted: boolean;
}

/** A small pure function from a byte string to a byte string. */
export type Transformation = (input: string, context: TransformContext) => string;

/** UTF-8 bytes of a code point, as a byte string. */
export function codePointToBytes(codePoint: number): string {
  if (codePoint < 0x80) return String.fromCharCode(codePoint);
  return Buffer.from(String.fromCodePoint(codePoint), "utf8").toString("latin1");
}

export function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  if (lower >= 97 && lower <= 102) return lower - 87;
  return -1;
}

/** The four hex digits at `at` as a number, or -1 when the text ends or a digit is not hex. */
export function hex4(text: string, at: number): number {
  if (at + 4 > text.length) return -1;
  let value = 0;
  for (let k = at; k < at + 4; k++) {
    const digit = hexValue(text.charCodeAt(k));
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}
