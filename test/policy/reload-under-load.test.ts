/**
 * A policy reload while 64 streams are mid-request: every stream finishes normally, under the
 * policy it started with, and new streams get the new policy.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Meshrasp } from "../../ext-proc/src/cli/serve.js";
import { policyFile } from "../support/in-process.js";
import { postRequest, requestBody } from "../conformance/envoy-messages.js";
import { BodyMode, type EnvoyStream } from "../conformance/fake-envoy.js";
import { startMeshraspUnderTest, type RunningMeshrasp } from "../conformance/meshrasp-under-test.js";
import { defaultPolicyPath } from "../../ext-proc/src/policy/policy-document.js";

const STREAMS = 64;
const ATTACK_BODY = "q=1' UNION SELECT password FROM users--";

let server: RunningMeshrasp;
let app: Meshrasp;
let file: string;
const defaults = readFileSync(defaultPolicyPath(), "utf8");

beforeAll(async () => {
  file = policyFile(defaults);
  server = await startMeshraspUnderTest({ policyFile: file, pollMs: 60_000 });
  ({ app } = server);
});

afterAll(() => server.stop());

const head = () => postRequest("/search", "application/x-www-form-urlencoded", ATTACK_BODY.length);
const open = (): EnvoyStream => server.envoy.open({ requestBodyMode: BodyMode.BUFFERED });

/** Envoy's half-close, then the status the server ends the stream with. */
async function finish(stream: EnvoyStream): Promise<number> {
  stream.halfClose();
  return (await stream.serverEnd()).code;
}

describe("policy reload under load", () => {
  it("fails none of 64 open streams, which finish under the policy they started with", async () => {
    const streams = Array.from({ length: STREAMS }, open);
    await Promise.all(streams.map(async (s) => expect((await s.exchange(head())).response?.$case).toBe("requestHeaders")));

    const before = app.policy().hash;
    // The new policy only monitors: streams already open must still deny under the old one.
    writeFileSync(file, defaults.replace("mode: enforce", "mode: monitor").replace('version: "1"', 'version: "2"'));
    expect(app.reloadPolicy()).toBe("loaded");
    expect(app.policy().hash).not.toBe(before);

    const answers = await Promise.all(streams.map((s) => s.exchange(requestBody(ATTACK_BODY, true))));
    expect(answers.map((a) => a.response?.$case)).toEqual(Array(STREAMS).fill("immediateResponse"));
    expect(await Promise.all(streams.map(finish))).toEqual(Array(STREAMS).fill(0));

    // A stream opened after the reload runs under the new policy: monitor, so no deny.
    const after = open();
    await after.exchange(head());
    expect((await after.exchange(requestBody(ATTACK_BODY, true))).response?.$case).toBe("requestBody");
    expect(await finish(after)).toBe(0);

    const metrics = await app.metrics.registry.getSingleMetricAsString("meshrasp_policy_reloads_total");
    expect(metrics).toContain('meshrasp_policy_reloads_total{result="ok",policy="active"} 1');
    expect(await app.metrics.registry.getSingleMetricAsString("meshrasp_stream_errors_total")).not.toMatch(/code=/);
  });

  it("keeps serving the good policy when a reload is rejected, and says so everywhere", async () => {
    const good = app.policy().hash;
    writeFileSync(file, defaults.replace("paranoiaLevel: 1", "paranoiaLevel: 9"));
    expect(app.reloadPolicy()).toBe("rejected");
    expect(app.policy().hash).toBe(good);
    expect((await server.admin.get("/readyz")).status).toBe(200);
    const view = (await (await server.admin.get("/policy")).json()) as {
      active: { hash: string; rejected: { fileHash: string; issues: { path: string }[] } };
    };
    expect(view.active.hash).toBe(good);
    expect(view.active.rejected.fileHash).toMatch(/^[0-9a-f]{64}$/);
    expect(view.active.rejected.issues[0]?.path).toBe("spec.paranoiaLevel");
    expect(await app.metrics.registry.getSingleMetricAsString("meshrasp_policy_reloads_total")).toContain(
      'meshrasp_policy_reloads_total{result="error",policy="active"} 1',
    );
    const line = server.logLines().find((l) => l.event === "policy_rejected");
    expect(line?.errors).toEqual([expect.stringContaining("spec.paranoiaLevel")]);
    expect(line?.active_hash).toBe(good);
  });
});
