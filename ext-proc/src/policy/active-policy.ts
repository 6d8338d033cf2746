/** The compiled, immutable form of a policy that the server consults for each stream. */
import type { Engine } from "../engine/types.js";
import type { LimitAction, PolicyMode } from "./policy-document.js";

export interface ActivePolicy {
  readonly name: string;
  readonly version: string;
  /** sha256 of the canonical form of the policy and the rules it enforces, hex. */
  readonly hash: string;
  readonly mode: PolicyMode;
  readonly engine: Engine;
  /** Wall-clock budget for inspecting one phase of one request, in milliseconds. */
  readonly phaseBudgetMs: number;
  /** What Envoy is told when inspection fails or runs out of time. */
  readonly onError: LimitAction;
  /** Largest body the policy inspects; the gRPC receive limit must be at least this. */
  readonly maxBodyBytes: number;
}
