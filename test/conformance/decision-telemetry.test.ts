/**
 * What the metrics and security events say a decision did, read the way an operator reads them (a /metrics scrape,
 * the JSON log): a deny the policy does not carry out is reported as logged, and each truncation reason is counted
 * once per request however many phases repeat it. The default policy enforces and logs response leaks
 * (`onLeak: log`).
 */
import { describe, expect, it } from "vitest";
import { expectContinue } from "./answer-checks.js";
import { getRequest, newRequestId, okResponseHeaders, responseBody } from "./envoy-messages.js";
import { BodyMode } from "./fake-envoy.js";
import { useMeshrasp } from "./meshrasp-under-test.js";

const meshrasp = useMeshrasp();

const SQL_ERROR_PAGE = "<html><body>You have an error in your SQL syntax near 'x'</body></html>";

function decisions(action: string, phase: string): Promise<number> {
  return meshrasp.admin.metric("meshrasp_decisions_total", { action, phase });
}

function securityEvents(requestId: string): Record<string, unknown>[] {
  return meshrasp.logLines().filter((line) => line.event === "security" && line.request_id === requestId);
}

/** One GET through request headers, response headers and a buffered response body, each answered with CONTINUE. */
async function exchangeAllowed(path: string, requestId: string, page: string): Promise<void> {
  const stream = meshrasp.envoy.open({ responseBodyMode: BodyMode.BUFFERED });
  expectContinue(await stream.exchange(getRequest(path, requestId)), "requestHeaders");
  expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
  expectContinue(await stream.exchange(responseBody(page, true)), "responseBody");
  stream.closeLikeEnvoy();
}

describe("decision metrics and events", () => {
  it("reports a response leak the policy only logs as log, with enforced false, not as a deny", async () => {
    const [loggedBefore, deniedBefore] = [await decisions("log", "response_body"), await decisions("deny", "response_body")];
    const requestId = newRequestId();
    await exchangeAllowed("/orders/7", requestId, SQL_ERROR_PAGE);
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
    await exchangeAllowed(`/search?${query}`, newRequestId(), "<html>fine</html>");
    expect(await meshrasp.admin.metric("meshrasp_truncations_total", { reason: "argument_limit" })).toBe(before + 1);
    await exchangeAllowed(`/search?${query}`, newRequestId(), "<html>fine</html>");
    expect(await meshrasp.admin.metric("meshrasp_truncations_total", { reason: "argument_limit" })).toBe(before + 2);
  });
});
