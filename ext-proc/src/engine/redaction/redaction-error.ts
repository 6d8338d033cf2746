/**
 * The redaction module's errors are the engine's one error type (EngineError), with its stable
 * codes: `policy_invalid`, `decompression_limit`, `corrupt_encoding`, `unsupported_encoding`.
 * The module calls it RedactionError; messages never carry body bytes.
 */
import { EngineError } from "../engine-error.js";

export { EngineError as RedactionError };
