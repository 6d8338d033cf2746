/**
 * The shadow policy sees the same traffic in monitor mode: its disagreements with the enforced
 * policy are counted and logged with the decision id, and nothing it decides reaches Envoy.
 */
import { readFileSync } from "node:fs";
import { Metadata } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type {
  ExternalProcessorClient,
  ProcessingRequest,
  ProcessingResponse,
} from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import type { Meshrasp } from "../../ext-proc/src/cli/serve.js";
import { policyFile, startInProcess, type InProcess } from "../support/in-process.js";
import { headerMap } from "../conformance/envoy-messages.js";
import { defaultPolicyPath } from "../../ext-proc/src/policy/policy-document.js";
import { BETA_PATH_RULE } from "./beta-path-rule.js";

let server: InProcess;
let app: Meshrasp;
let client: ExternalProcessorClient;
let logs: Record<string, unknown>[];

/** The shadow turns SQL injection rules off and blocks a path the enforced policy allows. */
const SHADOW = readFileSync(defaultPolicyPath(), "utf8").replace("  failure:", [
  "  disabledRules: ['tag:attack-sqli']",
  ...BETA_PATH_RULE,
  "  failure:",
].join("\n"));

beforeAll(async () => {
  server = await startInProcess({ shadowPolicyFile: policyFile(SHADOW, "shadow.yaml") });
  ({ app, client, logs } = server);
});

afterAll(() => server.stop());

/** One headers-only request; resolves with the answer once the stream has closed. */
function get(path: string): Promise<ProcessingResponse> {
  return new Promise((done, fail) => {
    const stream = client.process(new Metadata());
    let answer: ProcessingResponse | undefined;
    stream.on("data", (a: ProcessingResponse) => {
      answer = a;
      stream.end();
    });
    stream.on("status", () => (answer ? done(answer) : fail(new Error("no answer"))));
    stream.on("error", () => undefined);
    const pairs: [string, string][] = [[":method", "GET"], [":path", path], [":authority", "shop"], [":scheme", "http"]];
    const message: ProcessingRequest = {
      request: { $case: "requestHeaders", value: { headers: headerMap(pairs), attributes: {}, endOfStream: true } },
      attributes: {},
      observabilityMode: false,
    };
    stream.write(message);
  });
}

async function disagreements(): Promise<string> {
  return app.metrics.registry.getSingleMetricAsString("meshrasp_shadow_disagreements_total");
}

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
}

describe("shadow policy", () => {
  it("counts a request the shadow would block, and still lets it through", async () => {
    const answer = await get("/beta/search?q=shoes");
    expect(answer.response?.$case).toBe("requestHeaders");
    await settle();
    expect(await disagreements()).toContain('meshrasp_shadow_disagreements_total{direction="would_block"} 1');
    const line = logs.find((l) => l.event === "shadow_disagreement" && l.direction === "would_block");
    expect(line?.shadow_rules).toEqual(["shadow-beta-path"]);
    expect(line?.decision_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("counts a request the shadow would allow, and still denies it", async () => {
    const answer = await get("/search?q=1%27%20UNION%20SELECT%20password%20FROM%20users--");
    expect(answer.response?.$case).toBe("immediateResponse");
    await settle();
    expect(await disagreements()).toContain('meshrasp_shadow_disagreements_total{direction="would_allow"} 1');
    const id = answer.response?.$case === "immediateResponse" ? (JSON.parse(answer.response.value.body.toString()) as { id: string }).id : "";
    expect(logs.find((l) => l.event === "shadow_disagreement" && l.direction === "would_allow")?.decision_id).toBe(id);
  });

  it("counts nothing when both agree", async () => {
    const before = await disagreements();
    await get("/products?page=2");
    await settle();
    expect(await disagreements()).toBe(before);
  });

  it("shows both policies in /policy and the shadow's own info metric", async () => {
    const view = (await (await fetch(`http://127.0.0.1:${app.adminPort}/policy`)).json()) as { active: { hash: string }; shadow: { hash: string } };
    expect(view.shadow.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(view.shadow.hash).not.toBe(view.active.hash);
    expect(await app.metrics.registry.getSingleMetricAsString("meshrasp_shadow_policy_info")).toContain(view.shadow.hash);
  });
});
