import type RE2 from "re2";
import type { PatternSet } from "../matching/regex-cache.js";
import type { Detector } from "./detector.js";
import { JsonFieldMasker, type JsonFieldNames } from "./json-field-masker.js";
import { applyMask, keepFrom, type MaskSpan } from "./mask.js";
import type { RedactionHit, RedactionResult, StreamRedactor } from "./redaction-types.js";
import { CONTEXT_BYTES } from "./redaction-limits.js";

/** A detector ready to scan: its regex (flags `gd`), the longest match it can give, its keepLast. */
export interface CompiledDetector {
  readonly detector: Detector;
  readonly regex: RE2;
  /** The longest match of the pattern alone: how far back a match can start that has not yet matched. */
  readonly headBytes: number;
  /** The longest match with its extension (MAX_MATCH_BYTES when the detector extends): what settles a match. */
  readonly maxBytes: number;
  readonly keepLast: number;
}

/** Everything a stream needs, compiled once per policy. */
export interface RedactionProgram {
  readonly detectors: readonly CompiledDetector[];
  /** One RE2.Set over every detector pattern, in the same order; absent when there are none. */
  readonly prefilter: PatternSet | undefined;
  readonly fields: JsonFieldNames;
  readonly maskByte: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * Redacts one body, whole or in chunks, with the same code, so the two cannot disagree.
 *
 * Why chunking cannot change the result: each detector keeps a cursor, and a match is taken at
 * `start` only once the window reaches past `start + maxBytes` (or the body has ended). No match
 * of the detector can be longer, and its end assertions (`$`, a trailing context byte) see a real
 * byte, so the leftmost match from the cursor, and its extension, are the same as in the whole
 * body. A match can reach past `start + headBytes` only once its pattern has matched, so
 * positions more than `headBytes` before the window's end that gave no match never will: with no
 * match in sight, a cursor trails the end by the pattern's bound (a PEM header, a JWT's first
 * segment), not by the 8 KiB an extension may take. Bytes before every cursor are final and go
 * out; the window keeps CONTEXT_BYTES before them for look-behind, so it never holds more than
 * the longest match plus CONTEXT_BYTES. JSON field masking is a byte-wise state machine over the
 * bytes that go out, and needs no look-ahead at all.
 */
export class StreamRedaction implements StreamRedactor {
  private window: Buffer = EMPTY;
  /** Absolute offset of window[0]. */
  private base = 0;
  /** Absolute offset up to which bytes have been returned. */
  private emitted = 0;
  private readonly cursors: number[];
  /** Accepted matches not yet wholly returned. */
  private spans: MaskSpan[] = [];
  private readonly json: JsonFieldMasker | undefined;
  private ended = false;

  constructor(
    private readonly compiled: RedactionProgram,
    json: boolean,
  ) {
    this.cursors = compiled.detectors.map(() => 0);
    this.json = json && compiled.fields.names.size > 0 ? new JsonFieldMasker(compiled.fields, compiled.maskByte) : undefined;
  }

  push(chunk: Buffer): RedactionResult {
    return this.advance(chunk, false);
  }

  end(): RedactionResult {
    return this.advance(EMPTY, true);
  }

  /** `push(chunk)` and `end()` in one call, without copying the body: the whole-body path. */
  last(chunk: Buffer): RedactionResult {
    return this.advance(chunk, true);
  }

  private advance(chunk: Buffer, final: boolean): RedactionResult {
    if (this.ended) throw new Error("StreamRedactor: push or end after end");
    this.ended = final;
    if (chunk.length > 0) this.window = this.window.length === 0 ? chunk : Buffer.concat([this.window, chunk]);
    const end = this.base + this.window.length;
    const hits: RedactionHit[] = [];
    this.scan(end, final, hits);
    const safe = final ? end : Math.min(end, ...this.cursors);
    const body = this.emit(safe, hits);
    if (final) this.json?.finish(end, hits);
    const keep = Math.max(this.base, safe - CONTEXT_BYTES);
    // A copy: the caller may reuse its chunk's memory once push returns.
    this.window = final ? EMPTY : Buffer.from(this.window.subarray(keep - this.base));
    this.base = keep;
    return { body, hits: hits.sort((a, b) => a.offset - b.offset) };
  }

  private scan(end: number, final: boolean, hits: RedactionHit[]): void {
    const { detectors, prefilter } = this.compiled;
    if (!prefilter) return;
    const from = Math.max(0, Math.min(...this.cursors) - this.base - CONTEXT_BYTES);
    // A detector the set does not match anywhere in the window has no match from its cursor:
    // skipping it is exactly what its own scan would conclude.
    const candidates = prefilter.match(this.window.subarray(from));
    for (let k = 0; k < detectors.length; k++) {
      const detector = detectors[k];
      if (detector === undefined) continue;
      const cursor = this.cursors[k] ?? 0;
      this.cursors[k] = candidates.includes(k)
        ? this.scanDetector(detector, cursor, end, final, hits)
        : final
          ? end
          : Math.max(cursor, end - detector.headBytes);
    }
  }

  /** Takes every settled match of one detector from `cursor` on; returns its new cursor. */
  private scanDetector(compiled: CompiledDetector, cursor: number, end: number, final: boolean, hits: RedactionHit[]): number {
    const { regex, headBytes, maxBytes, detector } = compiled;
    const { window, base } = this;
    let at = cursor;
    for (;;) {
      regex.lastIndex = at - base;
      const match = regex.exec(window);
      if (match === null) return final ? end : Math.max(at, end - headBytes);
      const start = base + match.index;
      if (!final && start + maxBytes >= end) return Math.max(at, Math.min(start, end - maxBytes));
      const [secretStart, matchedEnd] = match.indices?.groups?.["secret"] ?? [match.index, match.index + match[0].length];
      // The extension gets what maxBytes leaves after the longest head.
      const secretEnd = detector.extend
        ? detector.extend(window, matchedEnd, Math.min(window.length, matchedEnd + maxBytes - headBytes))
        : matchedEnd;
      const candidate = window.subarray(secretStart, secretEnd);
      const length = detector.validate ? detector.validate(candidate) : candidate.length;
      if (length === 0) {
        at = start + 1;
        continue;
      }
      const span = { start: base + secretStart, end: base + secretStart + length };
      this.spans.push({ ...span, keepFrom: base + keepFrom(window, secretStart, secretStart + length, compiled.keepLast) });
      hits.push({ detector: detector.name, offset: span.start, length });
      at = span.end;
    }
  }

  /** Returns the bytes from `emitted` to `safe`, masked. */
  private emit(safe: number, hits: RedactionHit[]): Buffer {
    if (safe <= this.emitted) return EMPTY;
    const original = this.window.subarray(this.emitted - this.base, safe - this.base);
    // Most calls have no match pending: then neither filter allocates.
    const spans = this.spans.length === 0 ? this.spans : this.spans.filter((span) => span.start < safe && span.end > this.emitted);
    let out = original;
    if (spans.length > 0 || this.json) {
      out = Buffer.from(original);
      for (const span of spans) applyMask(out, this.emitted, this.window, this.base, span, this.compiled.maskByte);
      this.json?.mask(original, out, this.emitted, hits);
    }
    this.emitted = safe;
    if (this.spans.length > 0) this.spans = this.spans.filter((span) => span.end > safe);
    return out;
  }
}
