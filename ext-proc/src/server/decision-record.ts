/**
 * The decision about one request, as the world sees it: its id, the metrics and security events
 * of each phase, the dynamic metadata handed back to Envoy, the tags for the upstream, and the
 * redaction counts. The session decides; this records.
 */
import { randomUUID } from "node:crypto";
import type { RedactionHit } from "../engine/redaction/index.js";
import type { Phase, TruncationReason, Verdict } from "../engine/types.js";
import { directionOf, enforcesDeny, type ScopedPolicy } from "../policy/active-policy.js";
import type { Logger } from "../telemetry/logger.js";
import type { MeshraspMetrics } from "../telemetry/metrics.js";
import { securityEvent } from "../telemetry/security-event.js";
import { addCategories, decisionTags } from "./header-changes.js";
import type { WorkloadIdentity } from "./workload-identity.js";

const NONE: readonly TruncationReason[] = [];

/** Dynamic metadata namespace meshrasp writes; Envoy applies it if listed in receiving_namespaces. */
const METADATA_NAMESPACE = "meshrasp";

export class DecisionRecord {
  readonly id = randomUUID();
  requestId: string | undefined;
  method: string | undefined;
  path: string | undefined;
  authority: string | undefined;
  private workload: WorkloadIdentity = { workload: "unknown", namespace: "unknown", source: "unknown" };
  /** Metric label: only names Envoy's configuration vouches for, never the client-chosen host. */
  private workloadLabel = "unknown";
  private score = 0;
  private lastAction: Verdict["action"] = "allow";
  /** Attack categories matched so far, for the upstream tags. */
  private readonly categories: string[] = [];
  /** Truncation reasons counted so far: a transaction's list only grows, without repeats. */
  private truncationsCounted = 0;

  constructor(
    private readonly metrics: MeshraspMetrics,
    private readonly logger: Logger,
    private readonly policyHash: string,
  ) {}

  setWorkload(identity: WorkloadIdentity): void {
    this.workload = identity;
    this.workloadLabel = identity.source === "metadata" || identity.source === "xds.node" ? identity.workload : "unknown";
  }

  /**
   * Metrics for every phase; a security event for every phase that matched something or denied.
   * A deny the scope does not carry out in this direction (monitor mode, a leak not blocked) is
   * counted as `log`, and its event says `enforced: false`.
   */
  record(scope: ScopedPolicy, phase: Phase, verdict: Verdict): void {
    this.score = verdict.score;
    addCategories(this.categories, verdict);
    const enforced = enforcesDeny(scope, directionOf(phase));
    const category = verdict.matches[0]?.category ?? "none";
    const action = verdict.action === "deny" && !enforced ? "log" : verdict.action;
    if (action !== "allow") this.lastAction = action;
    this.metrics.decisions.inc({ action, phase, category, workload: this.workloadLabel });
    for (const match of verdict.matches) this.metrics.ruleMatches.inc({ rule_id: match.ruleId, category: match.category });
    if (verdict.matches.length === 0 && verdict.action === "allow") return;
    const context = {
      decisionId: this.id,
      requestId: this.requestId,
      workload: this.workload.workload,
      namespace: this.workload.namespace,
      authority: this.authority,
      method: this.method,
      path: this.path,
      policyHash: this.policyHash,
      scope: scope.scope,
    };
    this.logger.info(securityEvent(context, phase, verdict, enforced));
  }

  /**
   * Counts each truncation reason once per request, right after the phase that first reports it
   * (a verdict lists every reason so far, not only its phase's), whether or not the phase goes on
   * to be recorded; returns the reasons this verdict is the first to report.
   */
  countTruncations(verdict: Verdict): readonly TruncationReason[] {
    // Nearly every phase adds none: answer without allocating.
    if (verdict.truncated.length === this.truncationsCounted) return NONE;
    const added = verdict.truncated.slice(this.truncationsCounted);
    for (const reason of added) this.metrics.truncations.inc({ reason });
    this.truncationsCounted = verdict.truncated.length;
    return added;
  }

  /**
   * Decision data for Envoy's dynamic metadata (access logs, later filters): sent with denies,
   * with any phase that matched something, and with the last answer of the request direction.
   * `action` is what was carried out, as in the metrics: a deny verdict that the answer does not
   * carry out (monitor mode, a leak only logged) is `log`.
   */
  metadata(verdict: Verdict | undefined, final: boolean, carriedOut = false): Record<string, unknown> | undefined {
    if (verdict === undefined) return undefined;
    if (!final && verdict.matches.length === 0 && verdict.action === "allow") return undefined;
    return {
      [METADATA_NAMESPACE]: {
        decision_id: this.id,
        action: verdict.action === "deny" && !carriedOut ? "log" : verdict.action,
        score: verdict.score,
        rules: verdict.matches.map((m) => m.ruleId).join(","),
        policy_hash: this.policyHash,
      },
    };
  }

  /** x-meshrasp-decision, -score, -categories for the upstream. */
  tags(): ReturnType<typeof decisionTags> {
    return decisionTags(this.id, this.score, this.categories);
  }

  /** Which detectors fired and how often: never the values. */
  redactions(hits: readonly RedactionHit[]): void {
    if (hits.length === 0) return;
    const byDetector: Record<string, number> = {};
    for (const hit of hits) {
      this.metrics.redactions.inc({ detector: hit.detector });
      byDetector[hit.detector] = (byDetector[hit.detector] ?? 0) + 1;
    }
    this.logger.info({ event: "redaction", decision_id: this.id, request_id: this.requestId, redacted: byDetector });
  }

  /** A summary for the log line written when the stream ends badly. */
  summary(): { decision_id: string; action: Verdict["action"]; score: number } {
    return { decision_id: this.id, action: this.lastAction, score: this.score };
  }
}
