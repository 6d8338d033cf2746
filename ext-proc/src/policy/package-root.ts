/**
 * Files shipped in the package (rule packs, the default policy, the policy schema) are found from
 * the package root, which is the same whether code runs from source (tests) or from dist/.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let root: string | undefined;

export function packageRoot(): string {
  if (root !== undefined) return root;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "meshrasp") {
      root = dir;
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error("meshrasp package root not found above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** Absolute path of a file shipped in the package, given its path from the package root. */
export function packagePath(relative: string): string {
  return join(packageRoot(), relative);
}
