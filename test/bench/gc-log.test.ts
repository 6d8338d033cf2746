import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { gcLogArgs, gcPauses, tracedFullCollections } from "../../bench/support/gc-log.js";

describe("the benchmark's GC log", () => {
  const dirs: string[] = [];
  const scratch = (): string => {
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-gc-log-"));
    dirs.push(dir);
    return dir;
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  // The child loads the built module (dist/), as the benchmark's servers do: run after `npm run build`.
  it("logs the collections of a process it is loaded into, full and young apart", () => {
    const file = join(scratch(), "gc.jsonl");
    const { nodeArgs, env } = gcLogArgs(file);
    const before = Date.now();
    // Two full and three young collections, then a wait for the observer's batch to be written.
    const script = "gc(); gc(); for (let i = 0; i < 3; i++) gc({ type: 'minor' }); setTimeout(() => {}, 100);";
    const run = spawnSync(process.execPath, [...nodeArgs, "--expose-gc", "-e", script], { env: { ...process.env, ...env }, encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const pauses = gcPauses(file, before, Date.now());
    expect(pauses.majors).toBeGreaterThanOrEqual(2);
    expect(pauses.minors).toBeGreaterThanOrEqual(3);
    expect(pauses.longestMajorMs).toBeGreaterThan(0);
    expect(pauses.pausedShare).toBeGreaterThan(0);
  });

  it("counts only the collections that started within the window", () => {
    const file = join(scratch(), "gc.jsonl");
    const line = (at: number, ms: number, major: boolean): string => `${JSON.stringify({ at, ms, major })}\n`;
    writeFileSync(file, line(900, 50, true) + line(1000, 4, false) + line(1500, 30, true) + line(1900, 2, false) + line(2001, 70, true));
    expect(gcPauses(file, 1000, 2000)).toEqual({ majors: 1, longestMajorMs: 30, minors: 2, longestMinorMs: 4, pausedShare: 36 / 1000 });
  });

  it("reports no collections when the process never wrote its log", () => {
    expect(gcPauses(join(scratch(), "absent.jsonl"), 0, 1000)).toEqual({ majors: 0, longestMajorMs: 0, minors: 0, longestMinorMs: 0, pausedShare: 0 });
  });

  it("reads the full collections of this Node's --trace-gc-nvp output, with the parts of their pauses the benchmark reports", () => {
    const run = spawnSync(process.execPath, ["--trace-gc-nvp", "--expose-gc", "-e", "gc(); gc({ type: 'minor' }); gc();"], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const lines = run.stdout.split("\n");
    expect(lines.filter((line) => /\sgc=s\s/.test(line)).length).toBeGreaterThanOrEqual(1);
    const full = tracedFullCollections(lines);
    expect(full.length).toBeGreaterThanOrEqual(2);
    for (const gc of full) {
      expect(gc.pauseMs).toBeGreaterThan(0);
      // Parts of the pause: present (a renamed field would read NaN) and no longer than it.
      expect(gc.externalStringsMs).toBeGreaterThanOrEqual(0);
      expect(gc.externalStringsMs).toBeLessThanOrEqual(gc.pauseMs);
      expect(gc.evacuateMs).toBeGreaterThanOrEqual(0);
      expect(gc.evacuateMs).toBeLessThanOrEqual(gc.pauseMs);
    }
  });
});
