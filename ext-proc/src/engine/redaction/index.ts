/**
 * Response-body redaction: detectors, JSON field masking and the codecs for compressed bodies.
 * Pure: no gRPC, no files, no clocks. See README.md for the rules and limits.
 */
export { compileRedactor } from "./compile-redactor.js";
export { parseContentEncoding, type ContentEncoding } from "./content-encoding.js";
export { decodeBody, encodeBody } from "./body-codec.js";
export { streamDecoder, streamEncoder, type StreamCodec } from "./stream-codec.js";
export { DEFAULT_REDACTION_DETECTORS } from "./detectors/registry.js";
export { RedactionError } from "./redaction-error.js";
export type { RedactionHit, Redactor, StreamRedactor } from "./redaction-types.js";
