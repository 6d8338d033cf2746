/**
 * `npm run bench:idle`: what `meshrasp serve` holds at rest with the default policy. Starts the
 * real command, waits for it to listen and settle, reads its resident memory from /proc, and
 * counts the RE2 sets the default policy compiles (in this process).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compiledSetCount } from "../../ext-proc/src/engine/matching/regex-cache.js";
import { loadPolicyEngine } from "../../ext-proc/src/policy/policy-engine.js";
import { machineLoad } from "../support/machine-load.js";
import { MESHRASP_MAIN, ROOT, rssKiB, startServeProcess, stopServeProcess } from "../support/serve-process.js";

const SETTLE_MS = 5_000;

async function serveRssMiB(): Promise<number> {
  const server = await startServeProcess([MESHRASP_MAIN, "serve", "--grpc", "127.0.0.1:0", "--admin", "127.0.0.1:0"]);
  try {
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    return rssKiB(server.child.pid!) / 1024;
  } finally {
    await stopServeProcess(server);
  }
}

const foreign = await machineLoad(2000);
const rss = await serveRssMiB();
loadPolicyEngine();
const report = [
  "# Idle memory",
  "",
  `Command: \`npm run bench:idle\`, Node ${process.versions.node}. Other load on the machine before the run: ${foreign.toFixed(2)} cores.`,
  "",
  `- \`meshrasp serve\` with the default policy, ${SETTLE_MS / 1000} s after it listens: **${rss.toFixed(1)} MiB** resident.`,
  `- RE2 sets the default policy compiles: ${compiledSetCount()}.`,
  "",
].join("\n");
process.stdout.write(report);
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
writeFileSync(join(ROOT, "bench/results/idle-memory.md"), report);
