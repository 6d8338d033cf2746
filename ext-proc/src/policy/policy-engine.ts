/**
 * A policy file as the engine-only commands (`check`, `replay`, the benchmarks) use it: the whole
 * compiled policy, whose scopes `check` and `replay` resolve for each request as the server does,
 * and for the benchmarks, which time the engine alone, the engine and time budget that a request
 * with nothing known of it (no workload, host, path or method) gets.
 */
import type { Engine } from "../engine/types.js";
import type { ActivePolicy } from "./active-policy.js";
import { compilePolicy } from "./compile-policy.js";
import { defaultPolicyPath, readPolicyFile } from "./policy-document.js";

export interface PolicyEngine {
  readonly policy: ActivePolicy;
  readonly engine: Engine;
  readonly phaseBudgetMs: number;
}

/** The policy in `file`, or the built-in default policy. Throws PolicyError. */
export function loadPolicyEngine(file: string = defaultPolicyPath()): PolicyEngine {
  const policy = compilePolicy(readPolicyFile(file));
  const scope = policy.resolve({ workload: "", namespace: "", host: "", path: "", method: "" });
  return { policy, engine: scope.engine, phaseBudgetMs: scope.phaseBudgetMs };
}
