/**
 * `meshrasp serve` as a user runs it: the built command in its own process, found by its log
 * line, checked over gRPC health, admin HTTP, and a SIGTERM while a stream is open.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { credentials, Metadata, type ClientDuplexStream } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import {
  ExternalProcessorClient,
  type ProcessingRequest,
  type ProcessingResponse,
} from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { ProcessingMode_BodySendMode } from "../../protos/generated/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js";
import { HealthClient, HealthCheckResponse_ServingStatus } from "../../protos/generated/grpc/health/v1/health.js";
import { headerMap } from "../conformance/envoy-messages.js";

const MAIN = resolve(import.meta.dirname, "../../dist/ext-proc/src/cli/main.js");

interface Running {
  child: ChildProcessWithoutNullStreams;
  grpc: string;
  admin: string;
  exit: Promise<{ code: number | null; stderr: string }>;
}

const children: ChildProcessWithoutNullStreams[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill("SIGKILL");
});

function run(args: string[], env: Record<string, string> = {}): { child: ChildProcessWithoutNullStreams; exit: Running["exit"] } {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run "npm run build" first (npm test does)`);
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: "pipe" });
  children.push(child);
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<{ code: number | null; stderr: string }>((done) => child.on("exit", (code) => done({ code, stderr })));
  return { child, exit };
}

const LOOPBACK_FLAGS = ["--grpc", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--drain-ms", "5000"];

async function serve(args: string[] = LOOPBACK_FLAGS, env: Record<string, string> = {}): Promise<Running> {
  const { child, exit } = run(["serve", ...args], env);
  const lines = createInterface({ input: child.stdout });
  for await (const line of lines) {
    const record = JSON.parse(line) as { event?: string; grpc?: string; admin?: string };
    if (record.event === "listening" && record.grpc && record.admin) {
      lines.removeAllListeners();
      child.stdout.resume();
      return { child, grpc: record.grpc, admin: record.admin, exit };
    }
  }
  throw new Error(`meshrasp serve exited before listening: ${(await exit).stderr}`);
}

function headersMessage(path: string, endOfStream: boolean): ProcessingRequest {
  const pairs: [string, string][] = [[":method", "POST"], [":path", path], [":authority", "shop"], [":scheme", "http"], ["content-type", "application/x-www-form-urlencoded"]];
  return {
    request: {
      $case: "requestHeaders",
      value: { headers: headerMap(pairs), attributes: {}, endOfStream },
    },
    attributes: {},
    observabilityMode: false,
    protocolConfig: { requestBodyMode: ProcessingMode_BodySendMode.BUFFERED, responseBodyMode: ProcessingMode_BodySendMode.NONE, sendBodyWithoutWaitingForHeaderResponse: false },
  };
}

function nextAnswer(stream: ClientDuplexStream<ProcessingRequest, ProcessingResponse>): Promise<ProcessingResponse> {
  return new Promise((done, fail) => {
    stream.once("data", done);
    stream.once("error", fail);
  });
}

describe("meshrasp serve (process)", () => {
  it("serves gRPC health and admin endpoints with the built-in policy", async () => {
    const app = await serve();
    const health = new HealthClient(app.grpc, credentials.createInsecure());
    const status = await new Promise<number>((done, fail) =>
      health.check({ service: "" }, (error, reply) => (error ? fail(error) : done(reply.status))),
    );
    health.close();
    expect(status).toBe(HealthCheckResponse_ServingStatus.SERVING);
    expect((await fetch(`http://${app.admin}/healthz`)).status).toBe(200);
    expect((await fetch(`http://${app.admin}/readyz`)).status).toBe(200);
    const policy = (await (await fetch(`http://${app.admin}/policy`)).json()) as { active: { name: string; hash: string } };
    expect(policy.active.name).toBe("default");
    expect(policy.active.hash).toMatch(/^[0-9a-f]{64}$/);
    const metrics = await (await fetch(`http://${app.admin}/metrics`)).text();
    expect(metrics).toContain(`meshrasp_policy_info{name="default",version="1",hash="${policy.active.hash}"} 1`);
    app.child.kill("SIGTERM");
    expect((await app.exit).code).toBe(0);
  });

  it("drains an open stream on SIGTERM, then exits 0", async () => {
    const app = await serve();
    const client = new ExternalProcessorClient(app.grpc, credentials.createInsecure());
    const stream = client.process(new Metadata());
    const statusCode = new Promise<number>((done) => stream.on("status", (s: { code: number }) => done(s.code)));
    stream.write(headersMessage("/form", false));
    expect((await nextAnswer(stream)).response?.$case).toBe("requestHeaders");

    app.child.kill("SIGTERM");
    // The process must stay up while the stream is open: the body is still answered.
    await new Promise((r) => setTimeout(r, 200));
    expect(app.child.exitCode).toBeNull();
    stream.write({ request: { $case: "requestBody", value: { body: Buffer.from("q=shoes"), endOfStream: true, endOfStreamWithoutMessage: false, grpcMessageCompressed: false } }, attributes: {}, observabilityMode: false });
    expect((await nextAnswer(stream)).response?.$case).toBe("requestBody");
    stream.end();
    expect(await statusCode).toBe(0);
    expect((await app.exit).code).toBe(0);
    client.close();
  });

  it("takes its addresses from the environment", async () => {
    const app = await serve([], { MESHRASP_GRPC: "127.0.0.1:0", MESHRASP_ADMIN: "127.0.0.1:0" });
    expect(app.grpc).toMatch(/^127\.0\.0\.1:\d+$/);
    app.child.kill("SIGTERM");
    expect((await app.exit).code).toBe(0);
    const result = await run(["serve"], { MESHRASP_GRPC: "127.0.0.1:notaport", MESHRASP_ADMIN: "127.0.0.1:0" }).exit;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--grpc: "127.0.0.1:notaport" is not HOST:PORT');
  });

  it("exits 1 naming file, line and column for an invalid policy", async () => {
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-cli-"));
    const file = join(dir, "policy.yaml");
    writeFileSync(file, "apiVersion: meshrasp.io/v1alpha1\nkind: RaspPolicy\nmetadata:\n  name: bad\nspec:\n  mode: block\n");
    const { exit } = run(["serve", "--policy", file, "--grpc", "127.0.0.1:0", "--admin", "127.0.0.1:0"]);
    const result = await exit;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${file}:6:3: spec.mode: must be one of "enforce", "monitor", "off"`);
  });

  it("exits 1 for a missing policy file and for an unknown flag", async () => {
    const missing = await run(["serve", "--policy", "/nonexistent/p.yaml"]).exit;
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("/nonexistent/p.yaml");
    const unknown = await run(["serve", "--bogus"]).exit;
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/Unknown option '--bogus'/);
  });

  it("validate prints a hash for a good policy and every error for a bad one", async () => {
    const good = run(["validate", resolve(import.meta.dirname, "../../ext-proc/policies/default.yaml")]);
    let out = "";
    good.child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    expect((await good.exit).code).toBe(0);
    expect(out).toMatch(/ok default 1 sha256:[0-9a-f]{64}/);
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-cli-"));
    const file = join(dir, "bad.yaml");
    writeFileSync(file, "apiVersion: meshrasp.io/v1alpha1\nkind: RaspPolicy\nmetadata:\n  name: bad\nspec:\n  mode: block\n  paranoiaLevel: 7\n");
    const bad = await run(["validate", file]).exit;
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split("\n")).toHaveLength(2);
  });
});
