// The compose demo for real: Envoy (the pinned image) in front of meshrasp (built from our
// Dockerfile) and the demo upstream, driven over HTTP like curl would. Needs a Docker engine with
// the compose plugin; without one the suite is reported as skipped, with the reason in its name.
// The first run builds the image (re2 compiles from source), so it takes minutes, not seconds;
// MESHRASP_SKIP_E2E=1 skips it on purpose (and says so).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { demoRequests } from "./helpers/demo-requests.js";
import { repoPath } from "./helpers/repo.js";
import type { StartedDockerComposeEnvironment } from "testcontainers";

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}

/** Why the suite cannot run here, or undefined when it can. */
async function dockerUnavailable(): Promise<string | undefined> {
  // For quick local runs on a machine that does have Docker.
  if (process.env.MESHRASP_SKIP_E2E === "1") return "MESHRASP_SKIP_E2E=1";
  try {
    const { getContainerRuntimeClient } = await import("testcontainers");
    await getContainerRuntimeClient();
  } catch (error) {
    return `no Docker engine: ${oneLine(error)}`;
  }
  try {
    await promisify(execFile)("docker", ["compose", "version"], { timeout: 10_000 });
  } catch (error) {
    return `no docker compose plugin: ${oneLine(error)}`;
  }
  return undefined;
}

const skipReason = await dockerUnavailable();
const suiteName = skipReason === undefined ? "envoy end-to-end" : `envoy end-to-end (skipped: ${skipReason})`;

describe.skipIf(skipReason !== undefined)(suiteName, () => {
  let environment: StartedDockerComposeEnvironment | undefined;
  let envoy = "";
  let meshraspAdmin = "";
  let envoyAdmin = "";

  beforeAll(async () => {
    const { DockerComposeEnvironment, Wait } = await import("testcontainers");
    environment = await new DockerComposeEnvironment(repoPath("envoy"), "docker-compose.yaml")
      .withBuild()
      .withProjectName(`meshrasp-e2e-${process.pid}`)
      .withWaitStrategy("meshrasp-1", Wait.forHealthCheck())
      .withWaitStrategy("envoy-1", Wait.forHttp("/ready", 9901).forStatusCode(200))
      .withStartupTimeout(120_000)
      .up();
    const host = environment.getContainer("envoy-1").getHost();
    envoy = `http://${host}:${environment.getContainer("envoy-1").getMappedPort(10000)}`;
    envoyAdmin = `http://${host}:${environment.getContainer("envoy-1").getMappedPort(9901)}`;
    meshraspAdmin = `http://${host}:${environment.getContainer("meshrasp-1").getMappedPort(9464)}`;
  }, 20 * 60_000);

  afterAll(async () => {
    await environment?.down({ removeVolumes: true, timeout: 10_000 });
  }, 120_000);

  it.each(demoRequests.map((r) => [`${r.title}: ${r.action}`, r] as const))("%s", async (_title, request) => {
    const init: RequestInit = { method: request.method, headers: request.headers ?? {} };
    if (request.body !== undefined) init.body = request.body;
    const response = await fetch(`${envoy}${request.path}`, init);
    const text = await response.text();
    if (request.action === "allow") {
      expect(response.status, text).toBe(200);
      // The answer came from the upstream, so the request went all the way through.
      expect(JSON.parse(text)).toMatchObject({ upstream: "demo", method: request.method });
    } else {
      expect(response.status, text).toBe(403);
      expect(text).not.toContain('"upstream":"demo"');
    }
  });

  it("refuses a request body over maxBodyBytes with 413 before meshrasp sees the body", async () => {
    const response = await fetch(`${envoy}/upload`, { method: "POST", body: "a".repeat(1024 * 1024 + 1) });
    expect(response.status).toBe(413);
  });

  it("counts the denials in meshrasp's metrics and the streams in Envoy's ext_proc stats", async () => {
    await fetch(`${envoy}/search?q=1'%20OR%20'1'='1`);
    const metrics = await (await fetch(`${meshraspAdmin}/metrics`)).text();
    expect(metrics).toMatch(/^meshrasp_decisions_total\{[^}]*action="deny"[^}]*\} [1-9]/m);
    expect(metrics).toMatch(/^meshrasp_policy_info\{[^}]*\} 1$/m);
    const stats = await (await fetch(`${envoyAdmin}/stats?filter=ext_proc`)).text();
    expect(stats).toMatch(/ext_proc\.meshrasp\.streams_started: [1-9]/);
    expect(stats).toMatch(/ext_proc\.meshrasp\.streams_failed: 0$/m);
  });

  it("redacts the card number and the AWS key id in GET /account, and adds the policy's headers", async () => {
    const response = await fetch(`${envoy}/account`);
    const text = await response.text();
    expect(response.status, text).toBe(200);
    expect(text).not.toContain("4111 1111 1111 1111");
    expect(text).not.toContain("AKIAIOSFODNN7EXAMPLE");
    expect(text).toContain("1111");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  });
});
