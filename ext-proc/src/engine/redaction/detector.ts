/**
 * A detector finds one kind of secret. It is an RE2 pattern (bounded: see pattern-bounds.ts),
 * optionally extended by a bounded loop over the bytes that follow (a PEM body is far cheaper to
 * walk in a loop than with an 8 KiB counted repetition), and optionally checked by a validator
 * that runs only on candidates. The candidate is the named group `secret` (or the whole match)
 * plus the extension.
 */
export interface Detector {
  readonly name: string;
  /** RE2 syntax; inline flags only (`(?i:…)`), since detectors share one RE2.Set. */
  readonly pattern: string;
  /** Trailing characters masked when no policy `mask.keepLast` is given. */
  readonly keepLast: number;
  /**
   * Extends a match that ends at `from`: returns the end of the secret, between `from` and
   * `limit` (both within `body`). Must depend only on those bytes. The budget is whatever
   * MAX_MATCH_BYTES leaves after the pattern's longest match (compileDetector).
   */
  readonly extend?: ((body: Buffer, from: number, limit: number) => number) | undefined;
  /**
   * How many leading bytes of a candidate are a secret (0: none). Sees the candidate only; may
   * accept a prefix (a card number followed by more digits that are not part of it).
   */
  readonly validate?: ((candidate: Buffer) => number) | undefined;
}

/** A set of byte values, as a 256-entry lookup table. */
export type ByteClass = Uint8Array;

/** The table for the bytes of `chars` (ASCII). */
export function byteClass(chars: string): ByteClass {
  const table = new Uint8Array(256);
  for (let i = 0; i < chars.length; i++) table[chars.charCodeAt(i)] = 1;
  return table;
}

/** Letters and digits, the usual edge of a token. */
export const ALNUM = "0-9A-Za-z";

/** A match that starts a token: the start of the body or a byte that is not in `[inner]`. */
export function tokenStart(inner: string): string {
  return `(?:^|[^${inner}])`;
}

/**
 * A match that starts a number written in groups: as tokenStart, and a space or dash before it
 * must not follow a digit (else the match would be the tail of a longer grouped number).
 */
export function groupedNumberStart(inner: string): string {
  return `(?:^|[^${inner} -]|(?:^|[^0-9])[ -])`;
}

/** A match that ends a token: the end of the body or a byte that is not in `[inner]`. */
export function tokenEnd(inner: string): string {
  return `(?:[^${inner}]|$)`;
}
