/**
 * `npm run bench:idle`: what `meshrasp serve` holds at rest with the default policy. Starts the
 * real command, waits for it to listen and settle, reads its resident memory from /proc, and
 * counts the RE2 sets the default policy compiles (in this process).
 */
import { spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { compiledSetCount } from "../../ext-proc/src/engine/matching/regex-cache.js";
import { loadPolicyEngine } from "../../ext-proc/src/policy/policy-engine.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const SETTLE_MS = 5_000;

async function serveRssMiB(): Promise<number> {
  const child = spawn(process.execPath, [join(ROOT, "dist/ext-proc/src/cli/main.js"), "serve", "--grpc", "127.0.0.1:0", "--admin", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    for await (const line of createInterface({ input: child.stdout })) {
      if ((JSON.parse(line) as { event?: string }).event === "listening") break;
    }
    child.stdout.resume();
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024;
  } finally {
    child.kill("SIGTERM");
  }
}

const rss = await serveRssMiB();
loadPolicyEngine();
const report = [
  "# Idle memory",
  "",
  "Command: `npm run bench:idle`.",
  "",
  `- \`meshrasp serve\` with the default policy, ${SETTLE_MS / 1000} s after it listens: **${rss.toFixed(1)} MiB** resident.`,
  `- RE2 sets the default policy compiles: ${compiledSetCount()}.`,
  "",
].join("\n");
process.stdout.write(report);
mkdirSync(join(ROOT, "bench/results"), { recursive: true });
writeFileSync(join(ROOT, "bench/results/idle-memory.md"), report);
