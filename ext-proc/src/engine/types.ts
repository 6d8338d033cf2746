/**
 * The engine's contract: requests and responses as plain data in, verdicts out.
 * Nothing here knows about gRPC, Envoy, files or clocks; the caller hands in a budget.
 */

/** The four points at which a transaction is inspected. */
export type Phase = "request_headers" | "request_body" | "response_headers" | "response_body";

/** One header as it arrived: lower-case name, raw value bytes (may be non-UTF-8). */
export interface HeaderField {
  readonly name: string;
  readonly value: Buffer;
}

/** The request line and headers. `path` is the raw request target, query string included. */
export interface RequestHead {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly scheme: string;
  /** Every header in arrival order, repeated names kept, pseudo-headers left out. */
  readonly headers: readonly HeaderField[];
}

export interface ResponseHead {
  readonly status: number;
  readonly headers: readonly HeaderField[];
}

/**
 * What the engine asks the caller to do. `deny` carries the HTTP status; `log` means a rule or
 * mode asked for the event to be recorded while the traffic goes on; `allow` means nothing matched
 * that matters.
 */
export type Action = "allow" | "deny" | "log";

export type Severity = "critical" | "error" | "warning" | "notice";

/** One rule that matched, as it goes into verdicts, logs and security events. */
export interface RuleMatch {
  readonly ruleId: string;
  /** Attack class, e.g. `sqli`, `xss`, `rce`, `lfi`, `protocol`. */
  readonly category: string;
  readonly severity: Severity;
  /** Anomaly points this match added (0 for `log` rules). */
  readonly score: number;
  readonly phase: Phase;
  /** Where it matched, e.g. `args:q`, `headers:user-agent`, `json:$.user.name`, `body`. */
  readonly target: string;
  /** The matched text, truncated to a short excerpt and never a redacted secret. */
  readonly matched: string;
  /** The rule is in monitor mode: reported, not counted toward a deny. */
  readonly monitored?: boolean | undefined;
}

/** Why part of a transaction was not inspected (explicit truncation). */
export type TruncationReason =
  | "body_limit"
  | "argument_limit"
  | "json_depth"
  | "multipart_parts"
  | "decode_passes"
  | "time_budget"
  | "partial_body"
  | "unparsable_body";

/** The engine's answer for one phase, cumulative over the transaction so far. */
export interface Verdict {
  readonly action: Action;
  /** HTTP status to answer with when `action` is `deny`. */
  readonly status: number;
  /** Total anomaly score of the transaction so far in this direction. */
  readonly score: number;
  /** Matches found in this phase (earlier phases' matches are not repeated). */
  readonly matches: readonly RuleMatch[];
  /** Every reason something was left uninspected, so far. Empty when everything was inspected. */
  readonly truncated: readonly TruncationReason[];
  /** The verdict would be `deny` if monitored rules were enforced. */
  readonly wouldDeny?: boolean | undefined;
}

/**
 * The only notion of time the engine has. The caller decides how long a phase may take and the
 * engine asks between units of work; once exceeded, the engine stops and reports `time_budget`.
 */
export interface Budget {
  exceeded(): boolean;
}

/** Information about a body chunk the engine cannot infer from the bytes themselves. */
export interface BodyChunkInfo {
  /** No more body will come for this direction (end of stream, trailers, or a single buffered message). */
  readonly last: boolean;
  /** False when the caller knows the body was cut short (e.g. Envoy's BUFFERED_PARTIAL at its limit). */
  readonly complete: boolean;
}

/** Per-request inspection state: one per HTTP request, phases called in order. */
export interface Transaction {
  inspectRequestHeaders(head: RequestHead, budget: Budget): Verdict;
  inspectRequestBody(chunk: Buffer, info: BodyChunkInfo, budget: Budget): Verdict;
  inspectResponseHeaders(head: ResponseHead, budget: Budget): Verdict;
  inspectResponseBody(chunk: Buffer, info: BodyChunkInfo, budget: Budget): Verdict;
}

/**
 * Selects rule matches: by rule id or tag (`tag:NAME`), optionally only on some targets, written
 * as a rule's targets are (`args:password`, `headers`, `json:$.comment`, `[headers, "!headers:cookie"]`)
 * and covering exactly the values a rule with those targets would scan. `compileMatchFilter`
 * checks and parses them once.
 */
export interface MatchFilter {
  readonly rules: readonly string[];
  readonly targets?: readonly string[] | undefined;
}

/** Per-request adjustments decided by the policy before inspection starts. */
export interface TransactionOptions {
  /** Matches dropped entirely: they add no score and are not reported. */
  readonly exclusions?: readonly MatchFilter[] | undefined;
  /**
   * Matches reported and scored separately but never enforced: if they alone would take the
   * verdict to `deny`, the verdict is `log` with `wouldDeny` set instead.
   */
  readonly monitored?: readonly MatchFilter[] | undefined;
}

/** A compiled policy's inspection logic. Immutable and shared by all transactions. */
export interface Engine {
  newTransaction(options?: TransactionOptions): Transaction;
}
