/**
 * The shadow policy's view of one request: the same inspection calls as the enforced policy, never
 * answered to Envoy. The shadow "would deny" where it would carry out a deny were it the active
 * policy (its scope's mode and `onLeak` decide, as they do for the active one). When the stream
 * ends the two outcomes are compared once; a difference is counted and logged with the request's
 * decision id.
 */
import type { Budget, Phase, Transaction, Verdict } from "../engine/types.js";
import { PhaseBudget } from "./phase-budget.js";
import { carriesOutDeny, directionOf, openTransaction, type ActivePolicy, type ScopedPolicy } from "../policy/active-policy.js";
import type { RequestIdentity } from "../policy/request-conditions.js";
import type { Logger } from "../telemetry/logger.js";
import type { MeshraspMetrics } from "../telemetry/metrics.js";

export class ShadowEvaluation {
  private readonly scope: ScopedPolicy;
  private readonly transaction: Transaction | undefined;
  private wouldDeny = false;
  private readonly rules = new Set<string>();
  private error: string | undefined;
  private settled = false;

  constructor(
    private readonly policy: ActivePolicy,
    request: RequestIdentity,
  ) {
    this.scope = policy.resolve(request);
    this.transaction = openTransaction(this.scope, request);
  }

  /** Runs one phase; a failure of the shadow never touches the enforced verdict. */
  inspect(phase: Phase, run: (tx: Transaction, budget: Budget) => Verdict): void {
    if (this.transaction === undefined || this.error !== undefined) return;
    try {
      const verdict = run(this.transaction, new PhaseBudget(this.scope.phaseBudgetMs));
      if (carriesOutDeny(this.scope, verdict, directionOf(phase))) this.wouldDeny = true;
      for (const match of verdict.matches) this.rules.add(match.ruleId);
    } catch (error) {
      this.error = error instanceof Error ? error.message : String(error);
    }
  }

  /** Compares with what was enforced, once per request. */
  settle(enforcedDeny: boolean, decisionId: string, metrics: MeshraspMetrics, logger: Logger): void {
    if (this.settled) return;
    this.settled = true;
    const direction = this.wouldDeny && !enforcedDeny ? "would_block" : !this.wouldDeny && enforcedDeny ? "would_allow" : undefined;
    if (direction === undefined && this.error === undefined) return;
    if (direction !== undefined) metrics.shadowDisagreements.inc({ direction });
    logger.info({
      event: "shadow_disagreement",
      decision_id: decisionId,
      direction: direction ?? "none",
      shadow_policy_hash: this.policy.hash,
      shadow_rules: [...this.rules],
      shadow_error: this.error,
    });
  }
}
