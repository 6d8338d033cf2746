/**
 * The redaction module's errors are the engine's one error type (EngineError), with its stable
 * codes: `policy_invalid`, `decompression_limit`, `corrupt_encoding`, `unsupported_encoding`.
 * The module calls it RedactionError; messages never carry body bytes.
 */
import { EngineError, type EngineErrorCode } from "../engine-error.js";

export type RedactionErrorCode = Extract<EngineErrorCode, "policy_invalid" | "decompression_limit" | "corrupt_encoding" | "unsupported_encoding">;

export { EngineError as RedactionError };
