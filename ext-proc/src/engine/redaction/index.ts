/**
 * Response-body redaction: detectors, JSON field masking and the codecs for compressed bodies.
 * Pure: no gRPC, no files, no clocks. See README.md for the rules and limits.
 */
export { compileRedactor } from "./compile-redactor.js";
export { parseContentEncoding, type ContentEncoding } from "./content-encoding.js";
export { decodeBody, encodeBody } from "./body-codec.js";
export { streamDecoder, streamEncoder, type StreamCodec } from "./stream-codec.js";
export { DEFAULT_REDACTION_DETECTORS } from "./detectors/registry.js";
export { JSON_FIELD_DETECTOR } from "./json-field-masker.js";
export { RedactionError, type RedactionErrorCode } from "./redaction-error.js";
export { CONTEXT_BYTES, DEFAULT_MASK_CHAR, MAX_MATCH_BYTES } from "./redaction-limits.js";
export type { RedactionHit, RedactionResult, RedactionSettings, Redactor, StreamRedactor } from "./redaction-types.js";
