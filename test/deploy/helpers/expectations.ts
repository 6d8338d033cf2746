/** What meshrasp expects of its deployment: the facts several deployment tests check against. */

/** Every metric meshrasp exposes; alerts and dashboards may use no other meshrasp_* name. */
export const meshraspMetrics: readonly string[] = [
  "meshrasp_decisions_total",
  "meshrasp_rule_matches_total",
  "meshrasp_phase_duration_seconds",
  "meshrasp_open_streams",
  "meshrasp_streams_total",
  "meshrasp_stream_errors_total",
  "meshrasp_policy_info",
  "meshrasp_policy_reloads_total",
  "meshrasp_fail_open_total",
  "meshrasp_shadow_disagreements_total",
  "meshrasp_shadow_policy_info",
  "meshrasp_redactions_total",
  "meshrasp_truncations_total",
];
const histograms = new Set(["meshrasp_phase_duration_seconds"]);

/** The meshrasp_* series names a PromQL expression uses, minus those meshrasp does not expose. */
export function unknownMetrics(expr: string): string[] {
  const names = expr.match(/\bmeshrasp_[a-z_]+/g) ?? [];
  return names.filter((name) => {
    if (meshraspMetrics.includes(name)) return false;
    const base = name.replace(/_(bucket|sum|count)$/, "");
    return !(base !== name && histograms.has(base));
  });
}

/** The processing mode meshrasp is written for (response bodies only where redaction needs them). */
export const expectedProcessingMode = {
  request_header_mode: "SEND",
  response_header_mode: "SEND",
  request_body_mode: "BUFFERED",
  response_body_mode: "NONE",
  request_trailer_mode: "SKIP",
  response_trailer_mode: "SKIP",
};

/** The dynamic metadata namespace meshrasp writes its decision into. */
export const metadataNamespace = "meshrasp";

/** gRPC metadata keys naming the workload a stream serves. */
export const identityKeys = { workload: "x-meshrasp-workload", namespace: "x-meshrasp-namespace" };

/** The filter name; per-route config is keyed by it. */
export const extProcFilterName = "envoy.filters.http.ext_proc";
export const extProcType = "type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor";

/** The serve command's entry point (package.json `bin`). */
export const cliEntry = "dist/ext-proc/src/cli/main.js";
