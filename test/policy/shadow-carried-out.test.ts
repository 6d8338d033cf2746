/**
 * The shadow policy "would block" only what it would carry out were it the active policy: a deny in a scope it only
 * monitors, or a response leak it only logs, is no disagreement with an active policy that lets the request through.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exchangeAllowed, SQL_ERROR_PAGE } from "../conformance/allowed-exchange.js";
import { startMeshraspUnderTest, type RunningMeshrasp } from "../conformance/meshrasp-under-test.js";
import { policyFile } from "../support/in-process.js";
import { BETA_PATH_RULE } from "./beta-path-rule.js";

/** Enforces a rule on /beta/ (monitored there), logs response leaks except under /strict/, where it blocks them. */
const SHADOW = [
  "apiVersion: meshrasp.io/v1alpha1",
  "kind: RaspPolicy",
  "metadata: { name: next }",
  "spec:",
  "  mode: enforce",
  ...BETA_PATH_RULE,
  "  scopes:",
  "    - name: beta-trial",
  "      match: { pathPrefixes: [/beta/] }",
  "      mode: monitor",
  "    - name: strict-leaks",
  "      match: { pathPrefixes: [/strict/] }",
  "      response: { onLeak: block }",
].join("\n");

let server: RunningMeshrasp;

beforeAll(async () => {
  server = await startMeshraspUnderTest({ shadowPolicyFile: policyFile(SHADOW, "shadow.yaml") });
});

afterAll(() => server.stop());

/** One GET the active (default) policy lets through, with a response page; resolves once its stream has ended. */
async function exchange(path: string, page: string): Promise<void> {
  await exchangeAllowed(server.envoy, path, page);
  // The comparison is settled when the stream is released, with the open-stream gauge.
  expect(await server.admin.metricSettlesAt("meshrasp_open_streams", 0)).toBe(0);
}

function wouldBlock(): Promise<number> {
  return server.admin.metric("meshrasp_shadow_disagreements_total", { direction: "would_block" });
}

describe("shadow policy outcome", () => {
  it("does not count a deny the shadow's scope only monitors", async () => {
    const before = await wouldBlock();
    await exchange("/beta/search?q=shoes", "<html>results</html>");
    expect(await wouldBlock()).toBe(before);
    expect(server.logLines().some((line) => line.event === "shadow_disagreement")).toBe(false);
  });

  it("counts a response leak only where the shadow would block it", async () => {
    const before = await wouldBlock();
    await exchange("/orders/7", SQL_ERROR_PAGE);
    expect(await wouldBlock()).toBe(before);
    await exchange("/strict/orders/7", SQL_ERROR_PAGE);
    expect(await wouldBlock()).toBe(before + 1);
  });
});
