import { byteClass } from "./detector.js";
import type { RedactionHit } from "./redaction-types.js";
import { MAX_JSON_DEPTH } from "./redaction-limits.js";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const SPACE = 0x20;
const ZERO = 0x30;
const NULL = Buffer.from("null");

/** Bytes of a bare JSON value: numbers, true, false, null (and tolerated junk like NaN). */
const LITERAL = byteClass("0123456789+-.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");

/** String text longer than this is searched with indexOf rather than byte by byte. */
const SHORT_RUN = 24;

/** Where the next `byte` is in `body` from `from` on, or `body.length`. */
function indexOrEnd(body: Buffer, byte: number, from: number): number {
  const at = body.indexOf(byte, from);
  return at < 0 ? body.length : at;
}

/** The detector name of a JSON field hit. */
export const JSON_FIELD_DETECTOR = "json-field";

function fieldHit(start: number, end: number): RedactionHit {
  return { detector: JSON_FIELD_DETECTOR, offset: start, length: end - start };
}

/** Field names compiled once per policy: every masker of every stream shares them. */
export class JsonFieldNames {
  readonly maxKeyBytes: number;
  /** Lower-case ASCII field names as bytes: compared without allocating, as most keys are ASCII. */
  readonly ascii: readonly Buffer[];

  /** `names`: lower-case field names. */
  constructor(readonly names: ReadonlySet<string>) {
    this.maxKeyBytes = Math.max(0, ...[...names].map((f) => Buffer.byteLength(f)));
    this.ascii = [...names].map((f) => Buffer.from(f)).filter((f) => f.every((b) => b < 0x80));
  }
}

/**
 * Masks the values of named fields in a JSON body, byte by byte, as the body streams: a
 * tolerant tokenizer (strings, escapes, containers, keys) whose whole state is a few fields, so
 * it needs no look-ahead, holds nothing back and masks a value of any length as it passes.
 * Length-preserving and still valid JSON:
 * - a string keeps its quotes; everything between them (escapes included) becomes the mask char;
 * - a number becomes `0` padded with spaces; `true`/`false` become `null` (padded); `null` stays;
 * - an object or array value keeps its brackets, commas and colons; every string (keys too) and
 *   every bare value inside is masked as above.
 * Keys match case-insensitively and byte for byte otherwise: a key written with escapes
 * (`"pass\u0077ord"`) does not match. Malformed JSON never throws; masking resumes at the next
 * recognisable key.
 */
export class JsonFieldMasker {
  /** Container kinds (1: object) of the enclosing containers, up to MAX_JSON_DEPTH. */
  private readonly objects = new Uint8Array(MAX_JSON_DEPTH);
  private depth = 0;
  private expectKey = false;
  private inString = false;
  private escaped = false;
  private stringIsKey = false;
  /** The key being read, up to one byte more than the longest field name (then it cannot match). */
  private readonly key: Uint8Array;
  private keyLength = 0;
  private keyMatched = false;
  private valueWanted = false;
  private inLiteral = false;
  private literalIndex = 0;
  private literalIsNumber = false;
  /** Containers open inside a masked value; 0 when the masked value is a scalar. */
  private maskedDepth = 0;
  private masking = false;
  private hitStart = 0;

  constructor(
    private readonly fields: JsonFieldNames,
    private readonly maskByte: number,
  ) {
    this.key = new Uint8Array(fields.maxKeyBytes + 1);
  }

  /**
   * Reads `body` (the next bytes of the stream, starting at absolute offset `offset`) and writes
   * the masked bytes into `out` (same length, a copy of `body`). Finished values go to `hits`.
   * One loop with the state in locals: this runs over every byte of every JSON response, and
   * field reads and calls per byte cost ten times more than the loop itself.
   */
  mask(body: Buffer, out: Buffer, offset: number, hits: RedactionHit[]): void {
    const { maskByte, key, objects } = this;
    const { maxKeyBytes } = this.fields;
    const length = body.length;
    let { depth, expectKey, inString, escaped, stringIsKey, keyLength, keyMatched, valueWanted } = this;
    let { inLiteral, literalIndex, literalIsNumber, maskedDepth, masking, hitStart } = this;
    let i = 0;
    /** Where the next backslash is (length: none), found once and reused until passed. */
    let nextBackslash = -1;
    while (i < length) {
      let byte = body[i] ?? 0;
      if (inString) {
        if (!escaped) {
          // Most of a JSON body is string text: run to the next quote or backslash. A short run
          // is cheapest in this loop; past SHORT_RUN bytes, indexOf (memchr) finds the end.
          if (stringIsKey && !masking) {
            while (byte !== QUOTE && byte !== BACKSLASH) {
              if (keyLength <= maxKeyBytes) key[keyLength++] = byte;
              if (++i === length) break;
              byte = body[i] ?? 0;
            }
          } else {
            const runStart = i;
            const shortEnd = Math.min(length, i + SHORT_RUN);
            while (byte !== QUOTE && byte !== BACKSLASH) {
              if (++i === shortEnd) break;
              byte = body[i] ?? 0;
            }
            if (i === shortEnd && i < length) {
              if (nextBackslash < i) nextBackslash = indexOrEnd(body, BACKSLASH, i);
              i = Math.min(indexOrEnd(body, QUOTE, i), nextBackslash);
              byte = body[i] ?? 0;
            }
            if (masking) out.fill(maskByte, runStart, i);
          }
          if (i === length) break;
          if (byte === QUOTE) {
            inString = false;
            if (stringIsKey) keyMatched = this.keyMatches(keyLength);
            else if (masking && maskedDepth === 0) {
              hits.push(fieldHit(hitStart, offset + i + 1));
              masking = false;
            }
            i++;
            continue;
          }
        }
        escaped = !escaped;
        if (masking) out[i] = maskByte;
        if (stringIsKey && keyLength <= maxKeyBytes) key[keyLength++] = byte;
        i++;
        continue;
      }
      if (inLiteral) {
        if (LITERAL[byte] === 1) {
          if (masking) out[i] = literalIsNumber ? SPACE : (NULL[literalIndex] ?? SPACE);
          literalIndex++;
          i++;
          continue;
        }
        inLiteral = false;
        if (masking && maskedDepth === 0) {
          hits.push(fieldHit(hitStart, offset + i));
          masking = false;
        }
      }
      switch (byte) {
        case QUOTE:
          inString = true;
          stringIsKey = expectKey && maskedDepth === 0 && depth <= MAX_JSON_DEPTH && objects[depth - 1] === 1;
          if (stringIsKey) keyLength = 0;
          else if (valueWanted) {
            valueWanted = false;
            masking = true;
            hitStart = offset + i;
          }
          break;
        case OPEN_OBJECT:
        case OPEN_ARRAY:
          if (valueWanted) {
            valueWanted = false;
            masking = true;
            hitStart = offset + i;
          }
          if (masking) maskedDepth++;
          if (depth < MAX_JSON_DEPTH) objects[depth] = byte === OPEN_OBJECT ? 1 : 0;
          depth++;
          expectKey = byte === OPEN_OBJECT;
          break;
        case CLOSE_OBJECT:
        case CLOSE_ARRAY:
          depth = Math.max(0, depth - 1);
          expectKey = false;
          valueWanted = false;
          if (maskedDepth > 0 && --maskedDepth === 0) {
            hits.push(fieldHit(hitStart, offset + i + 1));
            masking = false;
          }
          break;
        case COLON:
          expectKey = false;
          valueWanted = keyMatched;
          keyMatched = false;
          break;
        case COMMA:
          expectKey = objects[depth - 1] === 1;
          valueWanted = false;
          keyMatched = false;
          break;
        default:
          if (LITERAL[byte] === 1) {
            if (valueWanted) {
              valueWanted = false;
              masking = true;
              hitStart = offset + i;
            }
            inLiteral = true;
            literalIndex = 1;
            literalIsNumber = (byte >= ZERO && byte <= 0x39) || byte === 0x2d;
            if (masking) out[i] = literalIsNumber ? ZERO : (NULL[0] ?? SPACE);
          }
      }
      i++;
    }
    this.depth = depth;
    this.expectKey = expectKey;
    this.inString = inString;
    this.escaped = escaped;
    this.stringIsKey = stringIsKey;
    this.keyLength = keyLength;
    this.keyMatched = keyMatched;
    this.valueWanted = valueWanted;
    this.inLiteral = inLiteral;
    this.literalIndex = literalIndex;
    this.literalIsNumber = literalIsNumber;
    this.maskedDepth = maskedDepth;
    this.masking = masking;
    this.hitStart = hitStart;
  }

  /** The body ended: a value cut short is still reported. */
  finish(length: number, hits: RedactionHit[]): void {
    if (this.masking) hits.push(fieldHit(this.hitStart, length));
    this.masking = false;
  }

  /** Whether the key just read (`length` bytes) is one of the fields. */
  private keyMatches(length: number): boolean {
    if (length > this.fields.maxKeyBytes) return false;
    const key = this.key;
    let ascii = true;
    for (let k = 0; k < length; k++) if ((key[k] ?? 0) >= 0x80) ascii = false;
    if (!ascii) return this.fields.names.has(Buffer.from(key.subarray(0, length)).toString("utf8").toLowerCase());
    for (const field of this.fields.ascii) {
      if (field.length !== length) continue;
      let k = 0;
      for (let b = key[0] ?? 0; k < length && (b >= 0x41 && b <= 0x5a ? b + 32 : b) === field[k]; b = key[++k] ?? 0);
      if (k === length) return true;
    }
    return false;
  }
}
