/**
 * Prometheus metrics. One registry per running instance (tests start several in one process),
 * so nothing here is a module-level singleton.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { RequestCounter } from "./request-counter.js";
import { RequestHistogram } from "./request-histogram.js";

export interface MeshraspMetrics {
  readonly registry: Registry;
  readonly decisions: RequestCounter<"action" | "phase" | "category" | "workload">;
  readonly ruleMatches: Counter<"rule_id" | "category">;
  readonly phaseDuration: RequestHistogram<"phase">;
  readonly openStreams: Gauge;
  readonly streams: Counter;
  readonly streamErrors: Counter<"code">;
  readonly policyInfo: Gauge<"name" | "version" | "hash">;
  readonly shadowPolicyInfo: Gauge<"name" | "version" | "hash">;
  readonly policyReloads: Counter<"result" | "policy">;
  readonly failOpen: Counter<"reason">;
  readonly shadowDisagreements: Counter<"direction">;
  readonly truncations: Counter<"reason">;
  readonly redactions: Counter<"detector">;
}

/** Phase latency buckets: ext_proc answers must stay far below Envoy's 200 ms message timeout. */
const PHASE_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.2];

export function createMetrics(options: { processMetrics: boolean }): MeshraspMetrics {
  const registry = new Registry();
  if (options.processMetrics) collectDefaultMetrics({ register: registry, prefix: "meshrasp_" });
  const registers = [registry];
  return {
    registry,
    decisions: new RequestCounter(["action", "phase", "category", "workload"], {
      name: "meshrasp_decisions_total",
      help: "Verdicts, by the action carried out (a deny only logged counts as log), phase, attack category and workload.",
      registers,
    }),
    ruleMatches: new Counter({
      name: "meshrasp_rule_matches_total",
      help: "Rule matches, by rule id and category.",
      labelNames: ["rule_id", "category"],
      registers,
    }),
    phaseDuration: new RequestHistogram(
      "meshrasp_phase_duration_seconds",
      "Time spent inspecting one ext_proc message (the engine's share of the answer's latency), by phase.",
      "phase",
      PHASE_BUCKETS,
      registers,
    ),
    openStreams: new Gauge({
      name: "meshrasp_open_streams",
      help: "ext_proc streams currently open.",
      registers,
    }),
    streams: new Counter({
      name: "meshrasp_streams_total",
      help: "ext_proc streams opened since start.",
      registers,
    }),
    streamErrors: new Counter({
      name: "meshrasp_stream_errors_total",
      help: "ext_proc streams ended with a non-OK status, by stable error code.",
      labelNames: ["code"],
      registers,
    }),
    policyInfo: new Gauge({
      name: "meshrasp_policy_info",
      help: "The active policy (value 1), by name, version and content hash.",
      labelNames: ["name", "version", "hash"],
      registers,
    }),
    shadowPolicyInfo: new Gauge({
      name: "meshrasp_shadow_policy_info",
      help: "The shadow policy (value 1), evaluated in monitor mode beside the active one.",
      labelNames: ["name", "version", "hash"],
      registers,
    }),
    policyReloads: new Counter({
      name: "meshrasp_policy_reloads_total",
      help: "Policy reload attempts, by result (ok, error) and policy (active, shadow).",
      labelNames: ["result", "policy"],
      registers,
    }),
    failOpen: new Counter({
      name: "meshrasp_fail_open_total",
      help: "Requests let through uninspected or partly inspected because the policy fails open, by reason.",
      labelNames: ["reason"],
      registers,
    }),
    shadowDisagreements: new Counter({
      name: "meshrasp_shadow_disagreements_total",
      help: "Requests on which the shadow policy's verdict differs from the enforced one.",
      labelNames: ["direction"],
      registers,
    }),
    redactions: new Counter({
      name: "meshrasp_redactions_total",
      help: "Values masked in response bodies, by detector.",
      labelNames: ["detector"],
      registers,
    }),
    truncations: new Counter({
      name: "meshrasp_truncations_total",
      help: "Requests in which part of the traffic was not inspected, by reason (each reason counted once per request).",
      labelNames: ["reason"],
      registers,
    }),
  };
}
