/**
 * `npm run bench:engine`: engine only (no server), one core, over every shared corpus: requests
 * per second, MB/s and p50/p99 engine time per request. Refuses to report when the rest of the
 * machine is busy, because shared-core numbers are meaningless.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import { inspectRecord, recordBody, type HttpRecord } from "../../ext-proc/src/engine/http-record.js";
import { loadEngine, readCorpusFile } from "../../ext-proc/src/cli/replay-command.js";
import { corpusFiles, resultsPath } from "./corpus-location.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MAX_FOREIGN_CPU = Number(process.env.BENCH_MAX_FOREIGN_CPU ?? 0.35);

interface Prepared {
  readonly record: HttpRecord;
  readonly body: Buffer;
  readonly bytes: number;
}

function cpuTimes(): { busy: number; total: number } {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** Cores used by everything on the machine over `ms`, as a fraction of one core. */
async function machineLoad(ms: number): Promise<number> {
  const before = cpuTimes();
  const self = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const after = cpuTimes();
  const ownSeconds = (process.cpuUsage(self).user + process.cpuUsage(self).system) / 1e6;
  const ticksPerSecond = 100;
  const busySeconds = (after.busy - before.busy) / ticksPerSecond;
  return Math.max(0, busySeconds - ownSeconds) / (ms / 1000);
}

function prepare(files: readonly string[]): Map<string, Prepared[]> {
  const prepared = new Map<string, Prepared[]>();
  for (const file of files) {
    prepared.set(
      basename(file),
      readCorpusFile(file).map((record) => {
        const body = recordBody(record);
        let bytes = record.method.length + record.uri.length + body.length;
        for (const [name, value] of Object.entries(record.headers)) bytes += name.length + value.length + 4;
        return { record, body, bytes };
      }),
    );
  }
  return prepared;
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function main(): Promise<void> {
  const files = corpusFiles();
  const prepared = prepare(files);
  const all = [...prepared.values()].flat();
  const { engine } = loadEngine(undefined);
  const never = { exceeded: () => false };
  for (const item of all) inspectRecord(engine, item.record, never, item.body);
  const load = await machineLoad(2000);
  if (load > MAX_FOREIGN_CPU) {
    process.stderr.write(`bench: the machine is busy (${load.toFixed(2)} cores in use by others); not measuring\n`);
    process.exitCode = 2;
    return;
  }
  const times = new Float64Array(all.length * ROUNDS);
  let bytes = 0;
  let k = 0;
  const started = process.hrtime.bigint();
  for (let round = 0; round < ROUNDS; round++) {
    for (const item of all) {
      const t0 = process.hrtime.bigint();
      inspectRecord(engine, item.record, never, item.body);
      times[k++] = Number(process.hrtime.bigint() - t0) / 1000;
      bytes += item.bytes;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const loadAfter = await machineLoad(1000);
  times.sort();
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    requests: all.length * ROUNDS,
    corpora: [...prepared].map(([file, items]) => `${file} (${items.length})`),
    requestsPerSecond: Math.round((all.length * ROUNDS) / seconds),
    megabytesPerSecond: Number((bytes / seconds / 1e6).toFixed(2)),
    p50Microseconds: Number(quantile(times, 0.5).toFixed(1)),
    p99Microseconds: Number(quantile(times, 0.99).toFixed(1)),
    maxMicroseconds: Number((times[times.length - 1] ?? 0).toFixed(1)),
    foreignCpuBefore: Number(load.toFixed(2)),
    foreignCpuAfter: Number(loadAfter.toFixed(2)),
  };
  writeFileSync(resultsPath("engine-bench.json"), JSON.stringify(result, null, 2) + "\n");
  const markdown = [
    "# Engine throughput",
    "",
    "Produced by `npm run bench:engine` (engine only, no server, pinned to one core with `taskset -c 0`, every",
    `shared corpus replayed ${ROUNDS} times after a warm-up pass). Foreign CPU load before/after: ${result.foreignCpuBefore} / ${result.foreignCpuAfter} cores.`,
    "",
    "| measure | value |",
    "|---|---:|",
    `| requests | ${result.requests} |`,
    `| requests per second | ${result.requestsPerSecond} |`,
    `| MB/s | ${result.megabytesPerSecond} |`,
    `| p50 engine time per request | ${result.p50Microseconds} µs |`,
    `| p99 engine time per request | ${result.p99Microseconds} µs |`,
    `| max | ${result.maxMicroseconds} µs |`,
    "",
    `${result.date}, Node ${result.node}. Corpora: ${result.corpora.join(", ")}.`,
    "",
  ].join("\n");
  writeFileSync(resultsPath("engine-bench.md"), markdown);
  process.stdout.write(markdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
