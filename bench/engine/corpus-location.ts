import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { packageRoot } from "../../ext-proc/src/policy/package-root.js";

/** The shared corpus directory: `$MESHRASP_CORPUS`, else `../shared/corpus` next to the repository. */
export function corpusDirectory(): string {
  return process.env.MESHRASP_CORPUS ?? resolve(packageRoot(), "../shared/corpus");
}

/** The corpus directory as written in results: relative to the repository, never a machine's path. */
export function corpusLabel(): string {
  return process.env.MESHRASP_CORPUS === undefined ? "../shared/corpus" : "$MESHRASP_CORPUS";
}

/** Every `*.jsonl[.gz]` corpus file, or an explanation of where they were expected. */
export function corpusFiles(): string[] {
  const dir = corpusDirectory();
  if (!existsSync(dir)) {
    throw new Error(
      `corpus directory ${dir} not found: put the shared corpora there or set MESHRASP_CORPUS to their directory`,
    );
  }
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".jsonl.gz") || f.endsWith(".jsonl"))
    .sort()
    .map((f) => join(dir, f));
  if (files.length === 0) throw new Error(`no *.jsonl or *.jsonl.gz files in ${dir}`);
  return files;
}

/** Path of a file under bench/results. */
export function resultsPath(name: string): string {
  return join(packageRoot(), "bench", "results", name);
}
