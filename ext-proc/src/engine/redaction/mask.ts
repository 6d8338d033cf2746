/**
 * How a detector's match is masked, in place and length-preserving (offsets of the rest of the
 * body stay put; a streamed body is masked chunk by chunk with no length to fix). Only letters,
 * digits and non-ASCII bytes become the mask character: punctuation, spaces and line breaks stay,
 * so "4111-1111-1111-1111" reads "****-****-****-1111", and a match inside a JSON string or a
 * quoted attribute never breaks the quoting. A backslash escape (`\n`, `\"`, `\u00e9`) is kept
 * whole for the same reason.
 */
import { hexValue } from "../transformations/transform-context.js";

/** A match to mask, in absolute stream offsets. Bytes from `keepFrom` on are shown. */
export interface MaskSpan {
  readonly start: number;
  readonly end: number;
  readonly keepFrom: number;
}

const BACKSLASH = 0x5c;
const LOWER_U = 0x75;
/** `\uXXXX` reaches this far back from its last hex digit to its backslash. */
const UNICODE_ESCAPE_REACH = 5;

function isWordOrNonAscii(byte: number): boolean {
  return (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a) || byte >= 0x80;
}

/** Whether the byte at `i` is part of a secret's text (not punctuation, not part of an escape). */
export function maskableAt(body: Buffer, i: number): boolean {
  const byte = body[i] ?? 0;
  if (!isWordOrNonAscii(byte)) return false;
  if (body[i - 1] === BACKSLASH) return false;
  for (let back = 1; back < UNICODE_ESCAPE_REACH && i - back - 1 >= 0; back++) {
    const at = i - back;
    if (body[at] === LOWER_U && body[at - 1] === BACKSLASH) return false;
    if (hexValue(body[at] ?? 0) < 0) break;
  }
  return true;
}

/**
 * Where the shown tail of a match starts: after the last `keepLast` maskable bytes, but never
 * more than half of them (a short secret is not shown whole) and never in the middle of a UTF-8
 * character.
 */
export function keepFrom(body: Buffer, start: number, end: number, keepLast: number): number {
  if (keepLast === 0) return end;
  let maskable = 0;
  for (let i = start; i < end; i++) if (maskableAt(body, i)) maskable++;
  let keep = Math.min(keepLast, Math.floor(maskable / 2));
  let from = end;
  while (keep > 0 && from > start) if (maskableAt(body, --from)) keep--;
  while (from < end && ((body[from] ?? 0) & 0xc0) === 0x80) from++;
  return from;
}

/**
 * Masks `span` where it overlaps `out`, which holds body bytes from absolute offset `outStart`;
 * `body` holds the original bytes from absolute offset `bodyStart` (with context before).
 */
export function applyMask(out: Buffer, outStart: number, body: Buffer, bodyStart: number, span: MaskSpan, maskByte: number): void {
  const from = Math.max(span.start, outStart);
  const to = Math.min(span.keepFrom, outStart + out.length);
  for (let i = from; i < to; i++) if (maskableAt(body, i - bodyStart)) out[i - outStart] = maskByte;
}
