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
const LITERAL = new Uint8Array(256);
for (const c of "0123456789+-.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") LITERAL[c.charCodeAt(0)] = 1;

/** The detector name of a JSON field hit. */
export const JSON_FIELD_DETECTOR = "json-field";

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
  private readonly maxKeyBytes: number;
  /** Container kinds (true: object) of the enclosing containers, up to MAX_JSON_DEPTH. */
  private readonly objects: boolean[] = [];
  private depth = 0;
  private expectKey = false;
  private inString = false;
  private escaped = false;
  private stringIsKey = false;
  private key: number[] = [];
  private keyMatched = false;
  private valueWanted = false;
  private inLiteral = false;
  private literalIndex = 0;
  private literalIsNumber = false;
  /** Containers open inside a masked value; 0 when the masked value is a scalar. */
  private maskedDepth = 0;
  private masking = false;
  private hitStart = -1;

  constructor(
    private readonly fields: ReadonlySet<string>,
    private readonly maskByte: number,
  ) {
    this.maxKeyBytes = Math.max(0, ...[...fields].map((f) => Buffer.byteLength(f)));
  }

  /**
   * Reads `body` (the next bytes of the stream, starting at absolute offset `offset`) and writes
   * the masked bytes into `out` (same length, a copy of `body`). Finished values go to `hits`.
   */
  mask(body: Buffer, out: Buffer, offset: number, hits: RedactionHit[]): void {
    for (let i = 0; i < body.length; i++) {
      const byte = body[i] ?? 0;
      if (this.inString) {
        if (this.masking) out[i] = this.maskByte;
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) {
          out[i] = QUOTE;
          this.inString = false;
          if (this.stringIsKey) this.endKey();
          else this.endValue(offset + i + 1, hits);
          continue;
        }
        if (this.stringIsKey && this.key.length <= this.maxKeyBytes) this.key.push(byte);
        continue;
      }
      if (this.inLiteral) {
        if (LITERAL[byte] === 1) {
          if (this.masking) out[i] = this.literalIsNumber ? (this.literalIndex === 0 ? ZERO : SPACE) : (NULL[this.literalIndex] ?? SPACE);
          this.literalIndex++;
          continue;
        }
        this.inLiteral = false;
        this.endValue(offset + i, hits);
      }
      this.structural(byte, offset + i, out, i, hits);
    }
  }

  /** The body ended: a value cut short is still reported. */
  finish(length: number, hits: RedactionHit[]): void {
    if (this.hitStart >= 0) hits.push({ detector: JSON_FIELD_DETECTOR, offset: this.hitStart, length: length - this.hitStart });
    this.hitStart = -1;
  }

  private structural(byte: number, at: number, out: Buffer, i: number, hits: RedactionHit[]): void {
    switch (byte) {
      case QUOTE:
        this.inString = true;
        this.stringIsKey = this.expectKey && this.maskedDepth === 0 && this.depth <= MAX_JSON_DEPTH && this.objects[this.depth - 1] === true;
        if (this.stringIsKey) this.key = [];
        else this.startValue(at);
        return;
      case OPEN_OBJECT:
      case OPEN_ARRAY:
        this.startValue(at);
        if (this.masking) this.maskedDepth++;
        if (this.depth < MAX_JSON_DEPTH) this.objects[this.depth] = byte === OPEN_OBJECT;
        this.depth++;
        this.expectKey = byte === OPEN_OBJECT;
        return;
      case CLOSE_OBJECT:
      case CLOSE_ARRAY:
        this.depth = Math.max(0, this.depth - 1);
        this.expectKey = false;
        this.valueWanted = false;
        if (this.maskedDepth > 0 && --this.maskedDepth === 0) this.endValue(at + 1, hits);
        return;
      case COLON:
        this.expectKey = false;
        if (this.keyMatched) this.valueWanted = true;
        this.keyMatched = false;
        return;
      case COMMA:
        this.expectKey = this.objects[this.depth - 1] === true;
        this.valueWanted = false;
        this.keyMatched = false;
        return;
      default:
        if (LITERAL[byte] === 1) {
          this.startValue(at);
          this.inLiteral = true;
          this.literalIndex = 1;
          this.literalIsNumber = (byte >= ZERO && byte <= 0x39) || byte === 0x2d;
          if (this.masking) out[i] = this.literalIsNumber ? ZERO : (NULL[0] ?? SPACE);
        }
    }
  }

  private startValue(at: number): void {
    if (this.valueWanted) {
      this.valueWanted = false;
      this.masking = true;
      this.hitStart = at;
    }
  }

  private endKey(): void {
    this.keyMatched =
      this.key.length <= this.maxKeyBytes && this.fields.has(Buffer.from(this.key).toString("utf8").toLowerCase());
  }

  private endValue(end: number, hits: RedactionHit[]): void {
    if (!this.masking || this.maskedDepth > 0) return;
    this.masking = false;
    hits.push({ detector: JSON_FIELD_DETECTOR, offset: this.hitStart, length: end - this.hitStart });
    this.hitStart = -1;
  }
}
