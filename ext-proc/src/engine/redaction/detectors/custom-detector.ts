import { compileSingle } from "../../matching/regex-cache.js";
import type { Detector } from "../detector.js";
import { patternByteBounds } from "../pattern-bounds.js";
import { RedactionError } from "../redaction-error.js";
import { MAX_MATCH_BYTES } from "../redaction-limits.js";

/**
 * A policy's own detector: the whole match is the secret. The pattern must compile in RE2, must
 * not match the empty string and must have a bounded length of at most MAX_MATCH_BYTES (write
 * `{1,64}` rather than `+`): that bound is what a streamed body is held back by.
 */
export function customDetector(name: string, pattern: string): Detector {
  const where = `redaction.custom[${name}].pattern`;
  try {
    // Cached, not thrown away: the prefilter compiles each pattern alone with these flags too.
    compileSingle(pattern, "");
  } catch (error) {
    throw RedactionError.policyInvalid(where, `not a valid RE2 pattern: ${error instanceof Error ? error.message : String(error)}`);
  }
  const bounds = patternByteBounds(pattern);
  if (bounds.min === 0) throw RedactionError.policyInvalid(where, "can match the empty string");
  if (bounds.max > MAX_MATCH_BYTES) {
    throw RedactionError.policyInvalid(
      where,
      `may match ${bounds.max === Infinity ? "unboundedly many" : bounds.max} bytes; the limit is MAX_MATCH_BYTES = ${MAX_MATCH_BYTES} (use {n,m} instead of *, + or {n,})`,
    );
  }
  return { name, pattern, keepLast: 0 };
}
