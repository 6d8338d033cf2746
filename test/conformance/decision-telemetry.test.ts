/**
 * What the metrics and security events say a decision did, read the way an operator reads them (a /metrics scrape,
 * the JSON log): a deny the policy does not carry out is reported as logged, and each truncation reason is counted
 * once per request however many phases repeat it. The default policy enforces and logs response leaks
 * (`onLeak: log`).
 */
import { describe, expect, it } from "vitest";
import { exchangeAllowed, SQL_ERROR_PAGE } from "./allowed-exchange.js";
import { newRequestId } from "./envoy-messages.js";
import { useMeshrasp } from "./meshrasp-under-test.js";

const meshrasp = useMeshrasp();

function decisions(action: string, phase: string): Promise<number> {
  return meshrasp.admin.metric("meshrasp_decisions_total", { action, phase });
}

function securityEvents(requestId: string): Record<string, unknown>[] {
  return meshrasp.logLines().filter((line) => line.event === "security" && line.request_id === requestId);
}

describe("decision metrics and events", () => {
  it("reports a response leak the policy only logs as log, with enforced false, not as a deny", async () => {
    const [loggedBefore, deniedBefore] = [await decisions("log", "response_body"), await decisions("deny", "response_body")];
    const requestId = newRequestId();
    await exchangeAllowed(meshrasp.envoy, "/orders/7", SQL_ERROR_PAGE, requestId);
    expect(await decisions("log", "response_body")).toBe(loggedBefore + 1);
    expect(await decisions("deny", "response_body")).toBe(deniedBefore);
    const event = securityEvents(requestId).find((line) => line.phase === "response_body");
    // The engine's verdict is kept in the event; `enforced` says it was not carried out.
    expect(event).toMatchObject({ action: "deny", enforced: false });
  });

  it("counts each truncation reason once per request, though every later verdict repeats it", async () => {
    const before = await meshrasp.admin.metric("meshrasp_truncations_total", { reason: "argument_limit" });
    // Past the default maxArguments (1000): the rest of the query is not inspected.
    const query = Array.from({ length: 1001 }, (_, i) => `a${i}=1`).join("&");
    // The verdicts of all three phases list argument_limit (truncation reasons are cumulative).
    await exchangeAllowed(meshrasp.envoy, `/search?${query}`, "<html>fine</html>", newRequestId());
    expect(await meshrasp.admin.metric("meshrasp_truncations_total", { reason: "argument_limit" })).toBe(before + 1);
    await exchangeAllowed(meshrasp.envoy, `/search?${query}`, "<html>fine</html>", newRequestId());
    expect(await meshrasp.admin.metric("meshrasp_truncations_total", { reason: "argument_limit" })).toBe(before + 2);
  });
});
