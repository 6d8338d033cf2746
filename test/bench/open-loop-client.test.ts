/**
 * The latency generator of `npm run bench:ext-proc`, run briefly against meshrasp in this process:
 * it drives exchanges at the rate asked, reports them, and counts an answer that is not the one
 * Envoy expects (a deny instead of a continue) as an error rather than as a fast success.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bodyRequest, grpcFrame, headersRequest } from "../../bench/ext-proc/exchange.js";
import { startInProcess, type InProcess } from "../support/in-process.js";

const CLIENT = resolve(import.meta.dirname, "../../dist/bench/ext-proc/open-loop-client.js");

/** An exchange file: the benchmark's request headers and `body`. */
function exchange(body: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "meshrasp-open-loop-")), "exchange.bin");
  writeFileSync(file, Buffer.concat([grpcFrame(headersRequest()), grpcFrame(bodyRequest(Buffer.from(body)))]));
  return file;
}

interface Report {
  offered: number;
  samples: number;
  errors: number;
  service: { p50: number; p99: number };
}

async function run(address: string, file: string, rate: number, seconds: number): Promise<Report> {
  if (!existsSync(CLIENT)) throw new Error(`${CLIENT} is missing: run npm run build first`);
  const { stdout } = await promisify(execFile)(process.execPath, [CLIENT, address, file, String(rate), String(seconds), "2"]);
  return JSON.parse(stdout) as Report;
}

describe("open-loop latency client", () => {
  let meshrasp: InProcess;
  beforeAll(async () => {
    meshrasp = await startInProcess();
  });
  afterAll(async () => {
    await meshrasp.stop();
  });

  it("drives Envoy-like exchanges at the offered rate and reports their latency", async () => {
    const report = await run(`127.0.0.1:${meshrasp.app.grpcPort}`, exchange('{"order":{"sku":"SKU-1","quantity":2}}'), 100, 1);
    expect(report.errors).toBe(0);
    // 100/s for 1 s after the warm-up; timers may shift one exchange across the window's edges.
    expect(report.samples).toBeGreaterThanOrEqual(98);
    expect(report.samples).toBeLessThanOrEqual(102);
    expect(report.service.p50).toBeGreaterThan(0);
    expect(report.service.p99).toBeGreaterThanOrEqual(report.service.p50);
  }, 30_000);

  it("counts a deny where a continue was expected as an error", async () => {
    const report = await run(`127.0.0.1:${meshrasp.app.grpcPort}`, exchange('{"q":"1 UNION SELECT password FROM users--"}'), 50, 1);
    expect(report.samples).toBe(0);
    expect(report.errors).toBeGreaterThanOrEqual(48);
  }, 30_000);
});
