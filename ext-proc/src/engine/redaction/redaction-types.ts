/** The policy's `redaction` section, defaults filled in by the caller. */
export interface RedactionSettings {
  /** Built-in detector names (see DEFAULT_REDACTION_DETECTORS). */
  readonly detectors: readonly string[];
  /** The policy's own detectors: the whole match of `pattern` (RE2, bounded length) is masked. */
  readonly custom: readonly { readonly name: string; readonly pattern: string }[];
  /** In JSON bodies, the values of fields with these names (case-insensitive) are masked whole. */
  readonly jsonFields: readonly string[];
  /** `char`: one printable ASCII character other than `"` and `\`; `keepLast` overrides every detector's default. */
  readonly mask: { readonly char: string; readonly keepLast?: number | undefined };
}

/** One masked secret: which detector, where (bytes, relative to the whole body or stream). Never its value. */
export interface RedactionHit {
  readonly detector: string;
  readonly offset: number;
  readonly length: number;
}

/**
 * Redacted bytes (the same length as the input: masking preserves length) and what was masked.
 * When nothing was masked, `body` may share memory with the input.
 */
export interface RedactionResult {
  readonly body: Buffer;
  readonly hits: readonly RedactionHit[];
}

/**
 * One streamed body. The outputs of every `push` and of `end`, concatenated, are exactly what
 * `Redactor.redact` gives for the whole body. A push may return fewer bytes than it was given
 * (at most `Redactor.maxHoldBytes` are held back); `end` returns the rest. A hit is reported
 * once, by the call that found it, which may come before all of its bytes are returned (a JSON
 * field value is reported when it ends). Each call's hits are sorted by offset.
 */
export interface StreamRedactor {
  push(chunk: Buffer): RedactionResult;
  end(): RedactionResult;
  /** `push(chunk)` and `end()` in one call: no held-back tail to copy, no two outputs to concatenate. */
  last(chunk: Buffer): RedactionResult;
}

export interface Redactor {
  /** Redacts a whole body. `json`: the body is JSON (the caller knows the content type). */
  redact(body: Buffer, json: boolean): RedactionResult;
  stream(json: boolean): StreamRedactor;
  /** The most a stream holds back: the longest match of any detector, plus CONTEXT_BYTES. */
  readonly maxHoldBytes: number;
}
