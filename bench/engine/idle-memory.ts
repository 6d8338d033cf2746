/**
 * `node dist/bench/engine/idle-memory.js`: what `meshrasp serve` holds right after start, without
 * the server: loads @grpc/grpc-js, compiles the default policy, and prints the RE2.Set count and
 * the process's RSS after a full garbage collection (run with `--expose-gc` for that).
 */
import "@grpc/grpc-js";
import { compiledSetCount } from "../../ext-proc/src/engine/matching/regex-cache.js";
import { compilePolicy } from "../../ext-proc/src/policy/compile-policy.js";
import { defaultPolicyPath, readPolicyFile } from "../../ext-proc/src/policy/policy-document.js";

const policy = compilePolicy(readPolicyFile(defaultPolicyPath()));
(globalThis as { gc?: () => void }).gc?.();
const mib = (bytes: number): string => (bytes / 1024 / 1024).toFixed(1);
const usage = process.memoryUsage();
process.stdout.write(
  `sets=${compiledSetCount()} rss=${mib(usage.rss)}MiB heapUsed=${mib(usage.heapUsed)}MiB external=${mib(usage.external)}MiB policy=${typeof policy}\n`,
);
