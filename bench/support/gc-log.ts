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
