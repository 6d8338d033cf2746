import { compileRedactor } from "./compile-redactor.js";
import type { RedactionHit } from "./redaction-types.js";

/** Test helper: what one detector masks in `text`, and its hits. */
export function redactWith(detector: string, text: string, keepLast?: number): { text: string; hits: readonly RedactionHit[] } {
  const redactor = compileRedactor({ detectors: [detector], custom: [], jsonFields: [], mask: { char: "*", keepLast } });
  const result = redactor.redact(Buffer.from(text), false);
  return { text: result.body.toString(), hits: result.hits };
}

/** Test helper: the secrets (as text) one detector finds in `text`. */
export function secretsFound(detector: string, text: string): string[] {
  const body = Buffer.from(text);
  return redactWith(detector, text).hits.map((h) => body.subarray(h.offset, h.offset + h.length).toString());
}
