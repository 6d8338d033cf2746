/**
 * scripts/prune-build-only.mjs, with which the image's runtime root is assembled: it leaves out
 * exactly what only re2's addon build needs, following Node's resolution (nested copies
 * included), and keeps a package another runtime dependency still needs.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build script, without type declarations
import { buildOnlyPaths } from "../../scripts/prune-build-only.mjs";
import { repoPath } from "./helpers/repo.js";

type Lock = { packages: Record<string, { dependencies?: Record<string, string> }> };
const prune = buildOnlyPaths as (lock: Lock, manifest: { dependencies: Record<string, string> }) => string[];

describe("prune-build-only", () => {
  it("removes re2's build-only tree and keeps what a runtime dependency shares with it", () => {
    const lock: Lock = {
      packages: {
        "": { dependencies: { a: "1", re2: "1" } },
        "node_modules/a": { dependencies: { semver: "1" } },
        "node_modules/re2": { dependencies: { nan: "1", "node-gyp": "1" } },
        "node_modules/nan": {},
        "node_modules/node-gyp": { dependencies: { tar: "1", semver: "1", which: "2" } },
        "node_modules/node-gyp/node_modules/which": {},
        "node_modules/which": {},
        "node_modules/tar": {},
        "node_modules/semver": {},
      },
    };
    expect(prune(lock, { dependencies: { a: "1", re2: "1" } })).toEqual([
      "node_modules/nan",
      "node_modules/node-gyp",
      "node_modules/node-gyp/node_modules/which",
      "node_modules/tar",
    ]);
  });

  it("on this repository's lockfile, removes node-gyp and nan and none of the runtime dependencies", () => {
    const lock = JSON.parse(readFileSync(repoPath("package-lock.json"), "utf8")) as Lock;
    const manifest = JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as { dependencies: Record<string, string> };
    const removed = prune(lock, manifest);
    expect(removed).toEqual(expect.arrayContaining(["node_modules/node-gyp", "node_modules/nan", "node_modules/install-artifact-from-github"]));
    for (const name of Object.keys(manifest.dependencies)) expect(removed).not.toContain(`node_modules/${name}`);
  });
});
