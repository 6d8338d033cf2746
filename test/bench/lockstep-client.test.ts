/**
 * The C latency generator of `npm run bench:ext-proc`, compiled here and run briefly against
 * meshrasp in this process and against stand-in servers that misbehave on purpose. It drives
 * exchanges at the rate asked and reports them; an answer that is not the one Envoy expects (a deny
 * instead of a continue, no gRPC status, an answer too large) or a lost connection counts as an
 * error rather than as a fast success, and "achieved" counts only what completed within the
 * measured window. Where it cannot be compiled (no C compiler or no libnghttp2-dev), the tests
 * report themselves skipped with that reason; `.ci/run` installs libnghttp2-dev.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exchangeFrames } from "../../bench/ext-proc/exchange.js";
import { withGrpcPrefix } from "../../bench/ext-proc/grpc-framing.js";
import { buildLockstepClient, type LockstepReport } from "../../bench/ext-proc/lockstep-build.js";
import { startInProcess, type InProcess } from "../support/in-process.js";
import { standIn, type Misbehaviour, type StandIn } from "../support/ext-proc-stand-in.js";

/** lockstep-client.c's WARMUP_MS and DRAIN_MS, by which the tests time what they do to a run. */
const WARMUP_MS = 2000;
const DRAIN_MS = 3000;
/** The client starts its schedule this long after it starts (its `begin`). */
const START_DELAY_MS = 100;

const dir = mkdtempSync(join(tmpdir(), "meshrasp-lockstep-"));
const built = buildLockstepClient(dir);
const skipped = "missing" in built ? built.missing : undefined;
// A skipped suite skips its afterAll as well: remove the directory now, nothing will use it.
if (skipped !== undefined) rmSync(dir, { recursive: true, force: true });

/** An exchange file: the benchmark's request headers and `body`. */
function exchange(body: string): string {
  const file = join(dir, `exchange-${body.length}.bin`);
  writeFileSync(file, exchangeFrames(Buffer.from(body)));
  return file;
}

async function run(port: number, file: string, rate: number, seconds: number): Promise<LockstepReport> {
  if (!("path" in built)) throw new Error("not built");
  const { stdout } = await promisify(execFile)(built.path, ["127.0.0.1", String(port), String(rate), String(seconds), "2", file]);
  return JSON.parse(stdout) as LockstepReport;
}

describe.skipIf(skipped !== undefined)(skipped === undefined ? "lockstep latency client" : `lockstep latency client (skipped: ${skipped})`, () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe("against meshrasp", () => {
    let meshrasp: InProcess | undefined;
    let healthy: LockstepReport;
    let before: number;
    let after: number;
    beforeAll(async () => {
      meshrasp = await startInProcess();
      before = Date.now();
      healthy = await run(meshrasp.app.grpcPort, exchange('{"order":{"sku":"SKU-1","quantity":2}}'), 200, 1);
      after = Date.now();
    });
    afterAll(async () => {
      await meshrasp?.stop();
    });

    it("drives Envoy-like exchanges at the offered rate, on time, and reports their latency", () => {
      // 200/s for 1 s after the warm-up, on a timer: one exchange may cross each edge of the window.
      expect(healthy.samples).toBeGreaterThanOrEqual(198);
      expect(healthy.samples).toBeLessThanOrEqual(202);
      expect(healthy.service.p50).toBeGreaterThan(0);
      expect(healthy.service.p99).toBeGreaterThanOrEqual(healthy.service.p50);
    });

    it("achieves no more than it offers, without errors, against a server that keeps up", () => {
      expect(healthy.errors).toBe(0);
      expect(healthy.achieved).toBeGreaterThanOrEqual(190);
      expect(healthy.achieved).toBeLessThanOrEqual(202);
    });

    it("gives its measured window in wall-clock time, SECONDS long, after the warm-up", () => {
      expect(healthy.windowStartEpochMs).toBeLessThan(healthy.windowEndEpochMs);
      expect(Math.abs(healthy.windowEndEpochMs - healthy.windowStartEpochMs - 1000)).toBeLessThanOrEqual(2);
      expect(healthy.windowStartEpochMs).toBeGreaterThanOrEqual(before + START_DELAY_MS + WARMUP_MS);
      expect(healthy.windowStartEpochMs).toBeLessThan(before + START_DELAY_MS + WARMUP_MS + 500);
      expect(healthy.windowEndEpochMs).toBeLessThanOrEqual(after);
    });

    it("counts a deny where a continue was expected as an error", async () => {
      const report = await run(meshrasp!.app.grpcPort, exchange('{"q":"1 UNION SELECT password FROM users--"}'), 50, 1);
      expect(report.samples).toBe(0);
      expect(report.errors).toBeGreaterThanOrEqual(48);
    }, 30_000);
  });

  describe("against a server that misbehaves", () => {
    const file = (): string => exchange('{"order":{"sku":"SKU-1","quantity":2}}');

    /** One second at 100/s against a stand-in server that misbehaves so. */
    async function runAgainst(misbehaviour: Misbehaviour): Promise<LockstepReport> {
      const server = await standIn(misbehaviour);
      try {
        return await run(server.port, file(), 100, 1);
      } finally {
        await server.close();
      }
    }

    it("counts a response without grpc-status as an error", async () => {
      const report = await runAgainst({ withoutStatus: true });
      expect(report.samples).toBe(0);
      expect(report.errors).toBeGreaterThanOrEqual(99);
    }, 30_000);

    it("fails only the exchange whose answer is too large, not the others on its connection", async () => {
      const report = await runAgainst({ firstAnswer: (index) => (index % 4 === 0 ? withGrpcPrefix(Buffer.alloc(8192)) : undefined) });
      // One exchange in four, in a window of about 100.
      expect(report.errors).toBeGreaterThanOrEqual(23);
      expect(report.errors).toBeLessThanOrEqual(27);
      expect(report.samples).toBeGreaterThanOrEqual(73);
    }, 30_000);

    it("counts as achieved what completed within the window, not what was started in it and finished later", async () => {
      // The server stalls from 0.3 s into the window until 1 s after it, well within the drain.
      const start = Date.now() + START_DELAY_MS + WARMUP_MS;
      const report = await runAgainst({ stall: { from: start + 300, until: start + 2000 } });
      expect(report.errors).toBe(0);
      expect(report.samples).toBeGreaterThanOrEqual(99);
      expect(report.achieved).toBeGreaterThan(10);
      expect(report.achieved).toBeLessThan(60);
    }, 30_000);

    /** Runs the client while `server` drops its connections `cutAfterMs` into the run; the run's report and length. */
    async function cutMidRun(server: StandIn, cutAfterMs: number): Promise<{ report: LockstepReport; elapsed: number }> {
      const started = Date.now();
      const cut = setTimeout(() => void server.close(), cutAfterMs);
      try {
        const report = await run(server.port, file(), 100, 1);
        return { report, elapsed: Date.now() - started };
      } finally {
        clearTimeout(cut);
        await server.close();
      }
    }

    it("survives a server that drops its connections while exchanges are being sent, and counts theirs as errors", async () => {
      // Half-way through the window: the client keeps sending on connections the server has closed.
      const { report, elapsed } = await cutMidRun(await standIn(), START_DELAY_MS + WARMUP_MS + 500);
      expect(report.samples).toBeGreaterThan(0);
      expect(report.errors).toBeGreaterThanOrEqual(40);
      expect(report.samples + report.errors).toBeGreaterThanOrEqual(99);
      expect(elapsed).toBeLessThan(START_DELAY_MS + WARMUP_MS + 1000 + DRAIN_MS / 2);
    }, 30_000);

    it("fails the exchanges open on a dropped connection at once, instead of waiting out the drain", async () => {
      // The server hangs from half-way through the window and drops its connections 0.5 s after it.
      const start = Date.now() + START_DELAY_MS + WARMUP_MS;
      const { report, elapsed } = await cutMidRun(await standIn({ stall: { from: start + 500 } }), START_DELAY_MS + WARMUP_MS + 1500);
      expect(report.samples).toBeGreaterThan(0);
      expect(report.errors).toBeGreaterThanOrEqual(40);
      expect(elapsed).toBeLessThan(START_DELAY_MS + WARMUP_MS + 1000 + DRAIN_MS / 2);
    }, 30_000);
  });
});
