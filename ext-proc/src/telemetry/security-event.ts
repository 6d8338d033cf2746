/** The structured security event: one JSON line per decision that matched something or denied. */
import { compileRedactor, DEFAULT_REDACTION_DETECTORS, type Redactor } from "../engine/redaction/index.js";
import type { Phase, RuleMatch, TruncationReason, Verdict } from "../engine/types.js";

let excerptRedactor: Redactor | undefined;

/**
 * Security events carry attacker-chosen text (matched excerpts, paths), which can also hold a
 * victim's card number or token; logs must never keep what the policy would redact, whatever the
 * policy says, so every built-in detector masks them.
 */
function masked(text: string): string {
  excerptRedactor ??= compileRedactor({ detectors: DEFAULT_REDACTION_DETECTORS, custom: [], jsonFields: [], mask: { char: "*" } });
  return excerptRedactor.redact(Buffer.from(text, "utf8"), false).body.toString("utf8");
}

export interface DecisionContext {
  readonly decisionId: string;
  readonly requestId: string | undefined;
  readonly workload: string;
  readonly namespace: string;
  readonly authority: string | undefined;
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly policyHash: string;
  /** The policy scope that applied: `spec` or a scope's name. */
  readonly scope: string;
}

export interface SecurityEvent {
  readonly event: "security";
  readonly decision_id: string;
  readonly request_id: string | undefined;
  readonly workload: string;
  readonly namespace: string;
  readonly authority: string | undefined;
  readonly method: string | undefined;
  readonly path: string | undefined;
  readonly phase: Phase;
  readonly action: Verdict["action"];
  /**
   * A deny at this phase is carried out: the scope enforces, and for a response `onLeak` is
   * `block`. A `deny` with `enforced: false` was only logged.
   */
  readonly enforced: boolean;
  readonly status: number | undefined;
  readonly score: number;
  readonly rules: readonly { id: string; category: string; target: string; matched: string; score: number; monitored: boolean }[];
  readonly truncated: readonly TruncationReason[];
  /** Monitored rules would have denied this request had they been enforced. */
  readonly would_deny: boolean;
  readonly policy_hash: string;
  readonly scope: string;
}

/** Longest path kept in an event: paths carry attacker-chosen data and must not bloat log lines. */
const MAX_PATH_CHARS = 512;

export function securityEvent(
  context: DecisionContext,
  phase: Phase,
  verdict: Verdict,
  enforced: boolean,
): SecurityEvent {
  return {
    event: "security",
    decision_id: context.decisionId,
    request_id: context.requestId,
    workload: context.workload,
    namespace: context.namespace,
    authority: context.authority,
    method: context.method,
    path: context.path === undefined ? undefined : masked(context.path.slice(0, MAX_PATH_CHARS)),
    phase,
    action: verdict.action,
    enforced,
    status: verdict.action === "deny" ? verdict.status : undefined,
    score: verdict.score,
    rules: verdict.matches.map(eventRule),
    truncated: verdict.truncated,
    would_deny: verdict.wouldDeny === true,
    policy_hash: context.policyHash,
    scope: context.scope,
  };
}

function eventRule(match: RuleMatch): SecurityEvent["rules"][number] {
  return {
    id: match.ruleId,
    category: match.category,
    target: match.target,
    matched: masked(match.matched),
    score: match.score,
    monitored: match.monitored === true,
  };
}
