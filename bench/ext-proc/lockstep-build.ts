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
