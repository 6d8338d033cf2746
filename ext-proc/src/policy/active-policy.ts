/** The compiled, immutable form of a policy that the server consults for each stream. */
import type { Redactor } from "../engine/redaction/index.js";
import { isRequestPhase } from "../engine/target-sources.js";
import type { Engine, MatchFilter, Phase, Transaction, Verdict } from "../engine/types.js";
import type { LimitAction, PolicyMode, PolicyRequestChanges, PolicyResponseChanges } from "./policy-document.js";
import type { RequestIdentity } from "./request-conditions.js";

/** Which way the inspected traffic flows: the client's request, or the upstream's response. */
export type Direction = "request" | "response";

/** The direction a phase inspects. */
export function directionOf(phase: Phase): Direction {
  return isRequestPhase(phase) ? "request" : "response";
}

/** The policy as it applies to one request: the spec's settings or a scope's. */
export interface ScopedPolicy {
  /** `spec` for the policy's own settings, otherwise the scope's name. */
  readonly scope: string;
  readonly mode: PolicyMode;
  readonly engine: Engine;
  /** Wall-clock budget for inspecting one phase of one request, in milliseconds. */
  readonly phaseBudgetMs: number;
  /** What Envoy is told when inspection fails or runs out of time. */
  readonly onError: LimitAction;
  /** Extra headers on a deny. */
  readonly denyHeaders: readonly (readonly [string, string])[];
  /** Whether a request body of this content type is inspected at all. */
  inspectsBody(contentType: string | undefined): boolean;
  /** Matches ignored for this request (exclusions whose conditions hold). */
  exclusions(request: RequestIdentity): readonly MatchFilter[];
  /** Rules evaluated and logged but never enforced. */
  readonly monitoredRules: readonly MatchFilter[];
  readonly requestChanges: PolicyRequestChanges;
  readonly responseChanges: Pick<PolicyResponseChanges, "setHeaders" | "removeHeaders" | "onLeak">;
  /** Response redaction, when the policy enables it. */
  readonly redaction: CompiledRedaction | undefined;
}

export interface CompiledRedaction {
  readonly redactor: Redactor;
  /** Whether a response of this content type is redacted. */
  appliesTo(contentType: string | undefined): boolean;
  readonly compressed: "recompress" | "identity" | "skip";
  readonly maxDecompressedBytes: number;
}

export interface ActivePolicy {
  readonly name: string;
  readonly version: string;
  /** sha256 of the canonical form of the policy and the rules it enforces, hex. */
  readonly hash: string;
  /** The first scope whose match fits the request, or the spec's own settings. */
  resolve(request: RequestIdentity): ScopedPolicy;
}

/**
 * The transaction that inspects one request under its scope: exclusions and monitored rules as
 * the scope sets them for this request, or undefined when the scope is off (nothing is inspected).
 */
export function openTransaction(scope: ScopedPolicy, request: RequestIdentity): Transaction | undefined {
  if (scope.mode === "off") return undefined;
  return scope.engine.newTransaction({ exclusions: scope.exclusions(request), monitored: scope.monitoredRules });
}

/**
 * Whether the scope carries out a deny in this direction: it enforces, and on the response path
 * (a leak: the upstream's answer is withheld) it also says `onLeak: block`. Any other deny is only
 * logged.
 */
export function enforcesDeny(scope: ScopedPolicy, direction: Direction): boolean {
  return scope.mode === "enforce" && (direction === "request" || scope.responseChanges.onLeak === "block");
}

/**
 * Whether a verdict is carried out as a deny, the one answer the server, the shadow comparison,
 * the metrics and the CLI all use: the verdict denies and the scope enforces that deny.
 */
export function carriesOutDeny(scope: ScopedPolicy, verdict: Pick<Verdict, "action"> | undefined, direction: Direction): boolean {
  return verdict?.action === "deny" && enforcesDeny(scope, direction);
}
