/**
 * Stable error codes of the redaction module, usable as metric labels: a policy that cannot be
 * compiled, a compressed body that inflates past its limit, one that is not what its
 * content-encoding says, and an encoding this module does not decode (parseContentEncoding
 * reports it; the caller raises it).
 */
export type RedactionErrorCode = "policy_invalid" | "decompression_limit" | "corrupt_encoding" | "unsupported_encoding";

/** The one error type of the redaction module. Messages never carry body bytes. */
export class RedactionError extends Error {
  override readonly name = "RedactionError";

  constructor(
    readonly code: RedactionErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** A setting that cannot be compiled: `where` names the detector or field. */
  static policyInvalid(where: string, reason: string): RedactionError {
    return new RedactionError("policy_invalid", `${where}: ${reason}`);
  }
}
