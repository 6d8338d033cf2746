// The demo requests get, from meshrasp's engine under the demo policy, the verdicts the
// end-to-end suite and envoy/README.md promise. Runs without Docker.
import { describe, expect, it } from "vitest";
import { PhaseBudget } from "../../ext-proc/src/server/phase-budget.js";
import { loadPolicyEngine } from "../../ext-proc/src/policy/policy-engine.js";
import { inspectRecord } from "../../ext-proc/src/engine/http-record.js";
import { demoRequests } from "./helpers/demo-requests.js";
import { repoPath } from "./helpers/repo.js";

describe("demo requests under envoy/policy/policy.yaml", () => {
  const loaded = loadPolicyEngine(repoPath("envoy/policy/policy.yaml"));

  it.each(demoRequests.map((r) => [r.title, r] as const))("%s", (_title, request) => {
    const { verdict } = inspectRecord(
      loaded.engine,
      { method: request.method, uri: request.path, headers: request.headers ?? {}, body: request.body ?? "" },
      new PhaseBudget(loaded.phaseBudgetMs),
    );
    expect(verdict.action).toBe(request.action);
    if (request.action === "deny") expect(verdict.status).toBe(403);
  });

  it("covers both verdicts", () => {
    expect(new Set(demoRequests.map((r) => r.action))).toEqual(new Set(["allow", "deny"]));
  });
});
