/**
 * The C latency generator of `npm run bench:ext-proc`, compiled here and run briefly against
 * meshrasp in this process: it drives exchanges at the rate asked, reports them, and counts an
 * answer that is not the one Envoy expects (a deny instead of a continue) as an error rather than
 * as a fast success. Where it cannot be compiled (no C compiler or no libnghttp2-dev), the tests
 * report themselves skipped with that reason; `.ci/run` installs libnghttp2-dev.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyRequest, grpcFrame, headersRequest } from "../../bench/ext-proc/exchange.js";
import { buildLockstepClient } from "../../bench/ext-proc/lockstep-build.js";
import { startInProcess, type InProcess } from "../support/in-process.js";

const dir = mkdtempSync(join(tmpdir(), "meshrasp-lockstep-"));
const built = buildLockstepClient(dir);
const skipped = "missing" in built ? built.missing : undefined;

/** An exchange file: the benchmark's request headers and `body`. */
function exchange(body: string): string {
  const file = join(dir, `exchange-${body.length}.bin`);
  writeFileSync(file, Buffer.concat([grpcFrame(headersRequest()), grpcFrame(bodyRequest(Buffer.from(body)))]));
  return file;
}

interface Report {
  offered: number;
  samples: number;
  errors: number;
  service: { p50: number; p99: number };
  startLag: { p99: number };
}

async function run(port: number, file: string, rate: number, seconds: number): Promise<Report> {
  if (!("path" in built)) throw new Error("not built");
  const { stdout } = await promisify(execFile)(built.path, ["127.0.0.1", String(port), String(rate), String(seconds), "2", file]);
  return JSON.parse(stdout) as Report;
}

describe.skipIf(skipped !== undefined)(skipped === undefined ? "lockstep latency client" : `lockstep latency client (skipped: ${skipped})`, () => {
  let meshrasp: InProcess;
  beforeAll(async () => {
    meshrasp = await startInProcess();
  });
  afterAll(async () => {
    await meshrasp.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("drives Envoy-like exchanges at the offered rate, on time, and reports their latency", async () => {
    const report = await run(meshrasp.app.grpcPort, exchange('{"order":{"sku":"SKU-1","quantity":2}}'), 200, 1);
    expect(report.errors).toBe(0);
    // 200/s for 1 s after the warm-up, on a timer: one exchange may cross each edge of the window.
    expect(report.samples).toBeGreaterThanOrEqual(198);
    expect(report.samples).toBeLessThanOrEqual(202);
    expect(report.service.p50).toBeGreaterThan(0);
    expect(report.service.p99).toBeGreaterThanOrEqual(report.service.p50);
  }, 30_000);

  it("counts a deny where a continue was expected as an error", async () => {
    const report = await run(meshrasp.app.grpcPort, exchange('{"q":"1 UNION SELECT password FROM users--"}'), 50, 1);
    expect(report.samples).toBe(0);
    expect(report.errors).toBeGreaterThanOrEqual(48);
  }, 30_000);
});
