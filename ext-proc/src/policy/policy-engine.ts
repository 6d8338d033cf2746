/**
 * A policy file as the engine-only commands (`check`, `replay`, the benchmarks) use it: the engine
 * and time budget of the policy's own settings. Requests in a corpus carry no workload, so scopes
 * are left to `replay --baseline`, which resolves them per request.
 */
import type { Engine } from "../engine/types.js";
import { compilePolicy } from "./compile-policy.js";
import { defaultPolicyPath, readPolicyFile } from "./policy-document.js";

export interface PolicyEngine {
  readonly engine: Engine;
  readonly phaseBudgetMs: number;
}

/** The policy in `file`, or the built-in default policy. Throws PolicyError. */
export function loadPolicyEngine(file: string = defaultPolicyPath()): PolicyEngine {
  const scope = compilePolicy(readPolicyFile(file)).resolve({ workload: "", namespace: "", host: "", path: "", method: "" });
  return { engine: scope.engine, phaseBudgetMs: scope.phaseBudgetMs };
}
