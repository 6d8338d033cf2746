import { compileSingle, sharedPatternSet } from "../matching/regex-cache.js";
import type { Detector } from "./detector.js";
import { customDetector } from "./detectors/custom-detector.js";
import { BUILT_IN_DETECTORS } from "./detectors/registry.js";
import { JSON_FIELD_DETECTOR, JsonFieldNames } from "./json-field-masker.js";
import { patternByteBounds } from "./pattern-bounds.js";
import { RedactionError } from "./redaction-error.js";
import { CONTEXT_BYTES, MAX_KEEP_LAST, MAX_MATCH_BYTES } from "./redaction-limits.js";
import type { RedactionSettings, Redactor } from "./redaction-types.js";
import { StreamRedaction, type CompiledDetector, type RedactionProgram } from "./stream-redaction.js";

/** Printable ASCII but the two characters that would end or escape a JSON string. */
const MASK_CHAR = /^[ !#-[\]-~]$/;

function checkMask(mask: RedactionSettings["mask"]): void {
  if (!MASK_CHAR.test(mask.char)) {
    throw RedactionError.policyInvalid("redaction.mask.char", `must be one printable ASCII character other than '"' and '\\'`);
  }
  const keepLast = mask.keepLast;
  if (keepLast !== undefined && !(Number.isInteger(keepLast) && keepLast >= 0 && keepLast <= MAX_KEEP_LAST)) {
    throw RedactionError.policyInvalid("redaction.mask.keepLast", `must be an integer from 0 to ${MAX_KEEP_LAST}`);
  }
}

function selectDetectors(settings: RedactionSettings): Detector[] {
  const selected: Detector[] = [];
  const names = new Set<string>([JSON_FIELD_DETECTOR]);
  for (const name of settings.detectors) {
    const detector = BUILT_IN_DETECTORS.get(name);
    if (!detector) throw RedactionError.policyInvalid(`redaction.detectors[${name}]`, "unknown detector");
    if (names.has(name)) throw RedactionError.policyInvalid(`redaction.detectors[${name}]`, "listed twice");
    names.add(name);
    selected.push(detector);
  }
  for (const { name, pattern } of settings.custom) {
    if (names.has(name) || BUILT_IN_DETECTORS.has(name)) {
      throw RedactionError.policyInvalid(`redaction.custom[${name}]`, "name already used by another detector");
    }
    names.add(name);
    selected.push(customDetector(name, pattern));
  }
  return selected;
}

/**
 * Built-in patterns are within MAX_MATCH_BYTES by construction (registry.test.ts), custom ones by
 * customDetector. An extension may take the rest of MAX_MATCH_BYTES after the longest head.
 */
function compileDetector(detector: Detector, keepLast: number | undefined): CompiledDetector {
  const headBytes = patternByteBounds(detector.pattern).max;
  const maxBytes = detector.extend ? MAX_MATCH_BYTES : headBytes;
  return { detector, regex: compileSingle(detector.pattern, "gd"), headBytes, maxBytes, keepLast: keepLast ?? detector.keepLast };
}

/**
 * Compiles the policy's redaction settings once; the result is shared by every request. Throws
 * RedactionError `policy_invalid` naming the detector or field at fault.
 */
export function compileRedactor(settings: RedactionSettings): Redactor {
  checkMask(settings.mask);
  for (const field of settings.jsonFields) {
    if (field.length === 0) throw RedactionError.policyInvalid("redaction.jsonFields", "a field name is empty");
  }
  const detectors = selectDetectors(settings).map((d) => compileDetector(d, settings.mask.keepLast));
  const compiled: RedactionProgram = {
    detectors,
    prefilter: detectors.length > 0 ? sharedPatternSet(detectors.map((d) => d.detector.pattern), "") : undefined,
    fields: new JsonFieldNames(new Set(settings.jsonFields.map((f) => f.toLowerCase()))),
    maskByte: settings.mask.char.charCodeAt(0),
  };
  return {
    redact: (body, json) => new StreamRedaction(compiled, json).last(body),
    stream: (json) => new StreamRedaction(compiled, json),
    // The full bound, extension included: a match found but not yet settled holds all of it.
    maxHoldBytes: Math.max(0, ...detectors.map((d) => d.maxBytes)) + CONTEXT_BYTES,
  };
}
