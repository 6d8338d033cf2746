/**
 * `meshrasp replay [--policy FILE] [--out VERDICTS.jsonl] CORPUS.jsonl[.gz]...`: runs recorded
 * requests through the policy as the server would (no server: scope, exclusions, monitored rules,
 * mode) and prints TPR/FPR per file and category. A request counts as blocked when the server
 * would deny it.
 */
import { createWriteStream, readFileSync } from "node:fs";
import { basename } from "node:path";
import { parseArgs } from "node:util";
import { gunzipSync } from "node:zlib";
import { inspectRecord, recordBody, recordHeader, type HttpRecord, type RecordVerdict } from "../engine/http-record.js";
import { carriesOutDeny, openTransaction, type ActivePolicy, type ScopedPolicy } from "../policy/active-policy.js";
import { loadPolicyEngine } from "../policy/policy-engine.js";
import { hostOf, pathOf } from "../policy/request-conditions.js";
import { PhaseBudget } from "../server/phase-budget.js";
import { resolveIdentity } from "../server/workload-identity.js";

export interface CommandIo {
  readonly stdin: NodeJS.ReadableStream;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/** A corpus line: an HTTP request plus its label. */
export interface CorpusRecord extends HttpRecord {
  readonly id: string;
  readonly label: "attack" | "benign";
  readonly category: string;
}

/** A recorded request as the server would judge it. */
export interface ServedVerdict extends RecordVerdict {
  /** The scope the request resolves to. */
  readonly scope: ScopedPolicy;
  /** The server would deny it: the verdict denies and the scope carries that out. */
  readonly blocked: boolean;
}

/** What a scope in mode `off` gives: nothing inspected. */
const UNINSPECTED: RecordVerdict = { verdict: { action: "allow", status: 200, score: 0, matches: [], truncated: [] }, matches: [], truncated: [] };

/**
 * Runs a recorded request as the server would: its scope resolved from host, path and method (a
 * record carries no workload metadata, so the host stands in, as in the server), with the scope's
 * exclusions, monitored rules, inspected content types and mode.
 */
export function inspectAsServer(policy: ActivePolicy, record: HttpRecord): ServedVerdict {
  const host = hostOf(recordHeader(record, "host") ?? "");
  const identity = resolveIdentity({}, {}, host);
  const request = { workload: identity.workload, namespace: identity.namespace, host, path: pathOf(record.uri), method: record.method };
  const scope = policy.resolve(request);
  const transaction = openTransaction(scope, request);
  if (transaction === undefined) return { ...UNINSPECTED, scope, blocked: false };
  const body = scope.inspectsBody(recordHeader(record, "content-type")) ? recordBody(record) : Buffer.alloc(0);
  // inspectRecord opens one transaction per record: this one.
  const inspected = inspectRecord({ newTransaction: () => transaction }, record, new PhaseBudget(scope.phaseBudgetMs), body);
  return { ...inspected, scope, blocked: carriesOutDeny(scope, inspected.verdict, "request") };
}

/** Every record of a corpus file (`.jsonl` or `.jsonl.gz`). */
export function readCorpusFile(path: string): CorpusRecord[] {
  const raw = readFileSync(path);
  const text = (path.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8");
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as CorpusRecord);
}

/** Blocked / total per label and category. */
export interface Tally {
  total: number;
  blocked: number;
}

export interface FileTally {
  readonly file: string;
  readonly byLabel: Map<string, Tally>;
  readonly byCategory: Map<string, Tally>;
}

function bump(map: Map<string, Tally>, key: string, blocked: boolean): void {
  const tally = map.get(key) ?? { total: 0, blocked: 0 };
  tally.total++;
  if (blocked) tally.blocked++;
  map.set(key, tally);
}

export function percent(tally: Tally): string {
  return tally.total === 0 ? "-" : ((100 * tally.blocked) / tally.total).toFixed(2);
}

/** Replays one corpus file, calling `onVerdict` with one output line per request. */
export function replayFile(policy: ActivePolicy, path: string, onVerdict?: (line: string) => void): FileTally {
  const tally: FileTally = { file: basename(path), byLabel: new Map(), byCategory: new Map() };
  for (const record of readCorpusFile(path)) {
    const { verdict, matches, scope, blocked } = inspectAsServer(policy, record);
    bump(tally.byLabel, record.label, blocked);
    bump(tally.byCategory, `${record.label}/${record.category}`, blocked);
    onVerdict?.(
      JSON.stringify({
        id: record.id,
        action: verdict.action,
        status: verdict.status,
        score: verdict.score,
        rules: matches.map((m) => m.ruleId),
        scope: scope.scope,
        blocked,
      }),
    );
  }
  return tally;
}

/** A plain-text table: TPR for attacks, FPR for benign traffic, per file and category. */
export function formatTallies(tallies: readonly FileTally[]): string {
  const lines = ["file                                   class                 requests  blocked  rate %"];
  const row = (file: string, name: string, t: Tally, kind: string): string =>
    `${file.padEnd(38)} ${name.padEnd(21)} ${String(t.total).padStart(8)} ${String(t.blocked).padStart(8)}  ${kind} ${percent(t)}`;
  for (const t of tallies) {
    for (const [label, tally] of t.byLabel) lines.push(row(t.file, label, tally, label === "attack" ? "TPR" : "FPR"));
    for (const [key, tally] of [...t.byCategory].sort()) {
      lines.push(row(t.file, `  ${key}`, tally, key.startsWith("attack") ? "TPR" : "FPR"));
    }
  }
  return lines.join("\n") + "\n";
}

export async function runReplay(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { policy: { type: "string" }, out: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0) {
    io.stderr.write("usage: meshrasp replay [--policy FILE] [--out VERDICTS.jsonl] CORPUS.jsonl[.gz]...\n");
    return 2;
  }
  const { policy } = loadPolicyEngine(values.policy);
  const out = values.out === undefined ? undefined : createWriteStream(values.out);
  const tallies: FileTally[] = [];
  for (const file of positionals) {
    tallies.push(replayFile(policy, file, out ? (line) => out.write(line + "\n") : undefined));
  }
  if (out) await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  io.stdout.write(formatTallies(tallies));
  return 0;
}
