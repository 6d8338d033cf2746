/**
 * `npm run bench:scopes`: what 100 policy scopes add to the engine time of a request.
 *
 * The same requests run through the default policy twice per round, interleaved: once as is,
 * once with 100 scopes (by workload, namespace, host and path prefix, with conditional exclusions)
 * resolved for every request before inspection, as the server does. Median over rounds.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { compilePolicy } from "../../ext-proc/src/policy/compile-policy.js";
import { parsePolicy, readPolicyBytes, defaultPolicyPath } from "../../ext-proc/src/policy/policy-document.js";
import { hostOf, pathOf, type RequestIdentity } from "../../ext-proc/src/policy/request-conditions.js";
import { inspectRecord, recordBody, recordHeader, type HttpRecord } from "../../ext-proc/src/engine/http-record.js";
import { readCorpusFile } from "../../ext-proc/src/cli/replay-command.js";
import { corpusFiles, resultsPath } from "../engine/corpus-location.js";
import { machineLoad } from "../support/machine-load.js";
import { median } from "../support/stats.js";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const MAX_REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const budget = { exceeded: () => false };

/** 100 scopes of every kind; the request mix rarely hits them, as in a real mesh. */
function scopesYaml(): string {
  const lines = ["  scopes:"];
  for (let i = 0; i < 100; i += 1) {
    lines.push(`    - name: scope-${i}`);
    switch (i % 4) {
      case 0:
        lines.push(`      match: { workloads: [svc-${i}], namespaces: [team-${i % 7}] }`, "      mode: monitor");
        break;
      case 1:
        lines.push(`      match: { hosts: ['api-${i}.example.com', '*.tenant-${i}.example.com'] }`);
        lines.push("      exclusions:", "        - rules: ['tag:attack-sqli']", `          when: { pathPrefixes: ['/search-${i}'] }`, "          targets: ['args:q']");
        break;
      case 2:
        lines.push(`      match: { pathPrefixes: ['/internal/v${i}/'] }`, "      mode: monitor");
        break;
      default:
        lines.push(`      match: { namespaces: [ns-${i}], pathPrefixes: ['/admin-${i}'] }`, "      mode: off");
    }
  }
  return lines.join("\n") + "\n";
}

function identity(record: HttpRecord): RequestIdentity {
  return { workload: "web", namespace: "shop", host: hostOf(recordHeader(record, "host") ?? ""), path: pathOf(record.uri), method: record.method };
}

async function main(): Promise<void> {
  const foreign = await machineLoad(2000);
  const defaults = readPolicyBytes(defaultPolicyPath()).toString("utf8");
  const plain = compilePolicy(parsePolicy(defaults, "default"));
  const scoped = compilePolicy(parsePolicy(`${defaults.trimEnd()}\n${scopesYaml()}`, "scoped"));
  const records = corpusFiles().flatMap((file) => readCorpusFile(file)).slice(0, MAX_REQUESTS);
  const bodies = records.map(recordBody);
  // The server knows host, path and method before any scope exists; only resolution is timed.
  const identities = records.map(identity);
  const base = plain.resolve(identity(records[0]!));

  const timeBase = (): number => {
    const started = performance.now();
    for (let i = 0; i < records.length; i += 1) inspectRecord(base.engine, records[i]!, budget, bodies[i]);
    return performance.now() - started;
  };
  const timeScoped = (): number => {
    const started = performance.now();
    for (let i = 0; i < records.length; i += 1) {
      const request = identities[i]!;
      const scope = scoped.resolve(request);
      scope.exclusions(request);
      inspectRecord(scope.engine, records[i]!, budget, bodies[i]);
    }
    return performance.now() - started;
  };
  const resolveOnly = (): number => {
    const started = performance.now();
    for (const request of identities) scoped.resolve(request).exclusions(request);
    return performance.now() - started;
  };

  timeBase();
  timeScoped();
  const a: number[] = [];
  const b: number[] = [];
  const r: number[] = [];
  for (let round = 0; round < ROUNDS; round += 1) {
    a.push(timeBase());
    b.push(timeScoped());
    r.push(resolveOnly());
  }
  const perRequest = (ms: number): string => ((ms * 1000) / records.length).toFixed(2);
  const overhead = ((median(b) - median(a)) / median(a)) * 100;
  const resolveShare = (median(r) / median(a)) * 100;
  const report = [
    "# Scope resolution cost",
    "",
    `Command: \`npm run bench:scopes\` (one core, \`taskset -c 0\`); ${records.length} corpus requests, ${ROUNDS} interleaved rounds, median. Other load on the machine before the run: ${foreign.toFixed(2)} cores.`,
    "",
    "| run | µs per request |",
    "|---|---:|",
    `| default policy | ${perRequest(median(a))} |`,
    `| default policy + 100 scopes (resolve + inspect) | ${perRequest(median(b))} |`,
    `| resolution alone (100 scopes) | ${perRequest(median(r))} |`,
    "",
    `Resolution alone is **${resolveShare.toFixed(2)} %** of the engine time; the end-to-end difference was ${overhead.toFixed(2)} % (noise included).`,
    "",
  ].join("\n");
  process.stdout.write(report);
  const out = resultsPath("scopes.md");
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, report);
}

await main();
