/**
 * Compiles lockstep-client.c, the latency generator of `npm run bench:ext-proc`, with the system's
 * C compiler and libnghttp2 (Debian: gcc and libnghttp2-dev).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../support/serve-process.js";

const SOURCE = join(ROOT, "bench/ext-proc/lockstep-client.c");

/** The compiled client's path, or why it cannot be built here (what to install). */
export function buildLockstepClient(dir: string): { path: string } | { missing: string } {
  const path = join(dir, "lockstep-client");
  const result = spawnSync("cc", ["-O2", "-Wall", "-o", path, SOURCE, "-lnghttp2"], { encoding: "utf8" });
  if (result.error !== undefined) return { missing: `no C compiler (cc: ${result.error.message}); Debian: apt-get install gcc` };
  if (result.status !== 0) {
    const said = result.stderr.trim();
    return /nghttp2/.test(said) ? { missing: `libnghttp2's headers or library (${said.split("\n")[0]}); Debian: apt-get install libnghttp2-dev` } : { missing: `cc failed: ${said}` };
  }
  return { path };
}

/** What the client prints on its one line of standard output (see its header comment); times in ms. */
export interface LockstepReport {
  offered: number;
  /** Exchanges that completed within the measured window, per second. */
  achieved: number;
  /** Exchanges started within the window that succeeded: the latencies' population. */
  samples: number;
  /** Exchanges started within the window that failed or had not finished after the drain. */
  errors: number;
  /** From writing the headers message to reading the body answer; -1 each when no exchange succeeded. */
  service: { p50: number; p90: number; p99: number; p999: number; max: number };
  /** How late the client itself started exchanges. */
  startLag: { p50: number; p99: number };
  /** The client's own CPU time per exchange. */
  cpuMsPerExchange: number;
  /** The measured window, in ms since the epoch. */
  windowStartEpochMs: number;
  windowEndEpochMs: number;
}
