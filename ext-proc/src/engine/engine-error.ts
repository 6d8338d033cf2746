/**
 * The one error type of the engine and the rule loaders. `code` is a stable string that callers may
 * use as a metric label; the message names the rule id, the field and the reason.
 */
export type EngineErrorCode =
  | "policy_invalid"
  | "inspection_timeout"
  | "internal"
  // Redaction: a compressed body that inflates past its limit, one that is not what its
  // content-encoding says, and an encoding that is not decoded.
  | "decompression_limit"
  | "corrupt_encoding"
  | "unsupported_encoding";

export class EngineError extends Error {
  override readonly name = "EngineError";

  constructor(
    readonly code: EngineErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** A rule or setting that cannot be loaded: `where` names the rule id (or setting) and field. */
  static policyInvalid(where: string, reason: string): EngineError {
    return new EngineError("policy_invalid", `${where}: ${reason}`);
  }

  /** Normalises anything thrown into an EngineError, keeping an existing one as it is. */
  static from(reason: unknown, code: EngineErrorCode = "internal"): EngineError {
    if (reason instanceof EngineError) return reason;
    if (reason instanceof Error) return new EngineError(code, reason.message, { cause: reason });
    return new EngineError(code, String(reason), { cause: reason });
  }
}
