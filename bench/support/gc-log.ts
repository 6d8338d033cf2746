/**
 * Garbage-collection pauses of a benchmarked server, for telling its own tail latency from the
 * runtime's. Loaded into the server with `node --import` (see `gcLogArgs`): it appends one JSON
 * line per collection to the file named by MESHRASP_BENCH_GC_LOG, and the benchmark reads back
 * the collections that fell within a measured window (`gcPauses`). Node reports a collection
 * once it has finished, so a line is written after the pause it describes, never during one.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { constants, performance, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { ROOT } from "./serve-process.js";

const LOG_VARIABLE = "MESHRASP_BENCH_GC_LOG";

/** One collection, as logged: when it started (ms since the epoch), how long it paused, its kind. */
interface GcLine {
  at: number;
  ms: number;
  major: boolean;
}

/**
 * The node arguments and environment that make a child process log its collections to `file`.
 * The child loads the built module, as the servers it is meant for run from dist/ too.
 */
export function gcLogArgs(file: string): { nodeArgs: string[]; env: Record<string, string> } {
  const built = pathToFileURL(join(ROOT, "dist/bench/support/gc-log.js")).href;
  return { nodeArgs: ["--import", built], env: { [LOG_VARIABLE]: file } };
}

export interface GcPauses {
  /** Full (mark-compact) collections and the longest of their pauses, ms. */
  majors: number;
  longestMajorMs: number;
  /** Young-generation collections (scavenges) and the longest of their pauses, ms. */
  minors: number;
  longestMinorMs: number;
  /** Time spent paused in either kind, as a share of the window. */
  pausedShare: number;
}

/** The collections logged in `file` that started within [from, to] (ms since the epoch). */
export function gcPauses(file: string, from: number, to: number): GcPauses {
  const lines = existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((line) => line !== "") : [];
  const within = lines.map((line) => JSON.parse(line) as GcLine).filter((gc) => gc.at >= from && gc.at <= to);
  const majors = within.filter((gc) => gc.major);
  const minors = within.filter((gc) => !gc.major);
  const longest = (list: GcLine[]): number => list.reduce((most, gc) => Math.max(most, gc.ms), 0);
  const paused = within.reduce((sum, gc) => sum + gc.ms, 0);
  return {
    majors: majors.length,
    longestMajorMs: longest(majors),
    minors: minors.length,
    longestMinorMs: longest(minors),
    pausedShare: to > from ? paused / (to - from) : 0,
  };
}

/**
 * One full (mark-compact) collection as `node --trace-gc-nvp` describes it: its pause, and the
 * parts of that pause spent clearing the external string table (finalising the external strings
 * that died: Node's HTTP/2 layer makes one per request header value) and evacuating live objects
 * out of fragmented pages (ms).
 */
export interface TracedFullCollection {
  pauseMs: number;
  externalStringsMs: number;
  evacuateMs: number;
}

/** The full collections among V8 --trace-gc-nvp lines (scavenges and other lines are skipped). */
export function tracedFullCollections(lines: readonly string[]): TracedFullCollection[] {
  const collections: TracedFullCollection[] = [];
  for (const line of lines) {
    // NAME=VALUE pairs after the `[pid:isolate] T ms:` prefix.
    const fields = new Map(line.split(/\s+/).filter((pair) => pair.includes("=")).map((pair) => pair.split("=", 2) as [string, string]));
    if (fields.get("gc") !== "mc") continue;
    const ms = (name: string): number => Number(fields.get(name) ?? NaN);
    collections.push({ pauseMs: ms("pause"), externalStringsMs: ms("clear.external_string_table"), evacuateMs: ms("evacuate") });
  }
  return collections;
}

const file = process.env[LOG_VARIABLE];
if (file !== undefined && file !== "") {
  // Incremental-marking steps and weak-callback passes are logged by Node as collections of
  // their own; only the pauses of the two real kinds are of interest.
  const kinds = new Map([
    [constants.NODE_PERFORMANCE_GC_MAJOR, true],
    [constants.NODE_PERFORMANCE_GC_MINOR, false],
  ]);
  new PerformanceObserver((list) => {
    let text = "";
    for (const entry of list.getEntries()) {
      const { detail } = entry as PerformanceEntry & { detail?: { kind?: number } };
      const major = kinds.get(detail?.kind ?? -1);
      if (major === undefined) continue;
      const line: GcLine = { at: performance.timeOrigin + entry.startTime, ms: entry.duration, major };
      text += `${JSON.stringify(line)}\n`;
    }
    if (text !== "") appendFileSync(file, text);
  }).observe({ entryTypes: ["gc"] });
}
