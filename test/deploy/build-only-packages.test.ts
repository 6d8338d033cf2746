/**
 * scripts/build-only-packages.mjs, which tells the image's runtime root assembler what to leave
 * out: exactly what only re2's addon build needs, following Node's resolution (nested copies
 * included), and never a package another runtime dependency still needs.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs build script, without type declarations
import { buildOnlyPaths } from "../../scripts/build-only-packages.mjs";
import { repoPath } from "./helpers/repo.js";

type Lock = { packages: Record<string, { dependencies?: Record<string, string> }> };
const buildOnly = buildOnlyPaths as (lock: Lock, manifest: { dependencies: Record<string, string> }) => string[];

describe("build-only-packages", () => {
  it("finds re2's build-only tree and not what a runtime dependency shares with it", () => {
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
    expect(buildOnly(lock, { dependencies: { a: "1", re2: "1" } })).toEqual([
      "node_modules/nan",
      "node_modules/node-gyp",
      "node_modules/node-gyp/node_modules/which",
      "node_modules/tar",
    ]);
  });

  it("on this repository's lockfile, finds node-gyp and nan and none of the runtime dependencies", () => {
    const lock = JSON.parse(readFileSync(repoPath("package-lock.json"), "utf8")) as Lock;
    const manifest = JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as { dependencies: Record<string, string> };
    const found = buildOnly(lock, manifest);
    expect(found).toEqual(expect.arrayContaining(["node_modules/node-gyp", "node_modules/nan", "node_modules/install-artifact-from-github"]));
    for (const name of Object.keys(manifest.dependencies)) expect(found).not.toContain(`node_modules/${name}`);
  });
});
