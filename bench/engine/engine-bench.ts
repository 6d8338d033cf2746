/**
 * `npm run bench:engine`: engine only (no server), one core, over every shared corpus: requests
 * per second, MB/s and p50/p99 engine time per request. Throughput is reported per second of the
 * process's own CPU time as well as per wall-clock second: on a shared machine the wall figure
 * falls with other people's load, the CPU figure much less. It waits (up to a minute) for the
 * machine to be quiet and records the foreign load it saw.
 */
import { writeFileSync } from "node:fs";
import { basename } from "node:path";
import { inspectRecord, recordBody, type HttpRecord } from "../../ext-proc/src/engine/http-record.js";
import { readCorpusFile } from "../../ext-proc/src/cli/replay-command.js";
import { loadPolicyEngine } from "../../ext-proc/src/policy/policy-engine.js";
import { machineLoad } from "../support/machine-load.js";
import { quantile } from "../support/stats.js";
import { corpusFiles, resultsPath } from "./corpus-location.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const MAX_FOREIGN_CPU = Number(process.env.BENCH_MAX_FOREIGN_CPU ?? 0.35);

interface Prepared {
  readonly record: HttpRecord;
  readonly body: Buffer;
  readonly bytes: number;
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

async function main(): Promise<void> {
  const files = corpusFiles();
  const prepared = prepare(files);
  const all = [...prepared.values()].flat();
  const never = { exceeded: () => false };
  // Warm-up on its own engine: JIT and RE2 DFA caches (the compiled sets are shared) get warm,
  // but every measured round starts with an empty clean-value memory, so repeats across rounds
  // are not counted as cheap repeats.
  const warm = loadPolicyEngine().engine;
  for (const item of all) inspectRecord(warm, item.record, never, item.body);
  let load = await machineLoad(2000);
  for (let tries = 0; load > MAX_FOREIGN_CPU && tries < 30; tries++) load = await machineLoad(2000);
  if (load > MAX_FOREIGN_CPU) process.stderr.write(`bench: the machine stayed busy (${load.toFixed(2)} cores used by others); the wall-clock figures are low\n`);
  const times = new Float64Array(all.length * ROUNDS);
  let bytes = 0;
  let k = 0;
  const engines = Array.from({ length: ROUNDS }, () => loadPolicyEngine().engine);
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  for (let round = 0; round < ROUNDS; round++) {
    const engine = engines[round] ?? warm;
    for (const item of all) {
      const t0 = process.hrtime.bigint();
      inspectRecord(engine, item.record, never, item.body);
      times[k++] = Number(process.hrtime.bigint() - t0) / 1000;
      bytes += item.bytes;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const loadAfter = await machineLoad(1000);
  times.sort();
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    requests: all.length * ROUNDS,
    corpora: [...prepared].map(([file, items]) => `${file} (${items.length})`),
    requestsPerSecond: Math.round((all.length * ROUNDS) / seconds),
    requestsPerCpuSecond: Math.round((all.length * ROUNDS) / cpuSeconds),
    megabytesPerSecond: Number((bytes / seconds / 1e6).toFixed(2)),
    megabytesPerCpuSecond: Number((bytes / cpuSeconds / 1e6).toFixed(2)),
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
    `shared corpus replayed ${ROUNDS} times, each round on a freshly compiled engine so no round profits from`,
    "values remembered in an earlier one, after a warm-up pass). Throughput per wall-clock second and per second",
    `of the process's CPU time. Foreign CPU load before/after: ${result.foreignCpuBefore} / ${result.foreignCpuAfter} cores.`,
    "",
    "| measure | value |",
    "|---|---:|",
    `| requests | ${result.requests} |`,
    `| requests per second (wall clock) | ${result.requestsPerSecond} |`,
    `| requests per second of CPU time | ${result.requestsPerCpuSecond} |`,
    `| MB/s (wall clock / CPU time) | ${result.megabytesPerSecond} / ${result.megabytesPerCpuSecond} |`,
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
