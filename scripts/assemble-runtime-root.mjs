#!/usr/bin/env node
// Writes the runtime image's whole root filesystem into one folder, which the Dockerfile's
// runtime stage copies onto `scratch` as its only layer: so the image holds exactly this folder,
// and test/deploy/runtime-root.test.ts, which runs this script too, measures the image's size
// without Docker. Run from the repository root after `npm ci` and `npm run build`:
//   node scripts/assemble-runtime-root.mjs <outDir>
// The folder gets this Node binary and the shared libraries ldd finds for it and for re2's addon
// (no shell, no package manager, no compiler), /etc/passwd and /etc/group naming the meshrasp
// user, an empty /tmp, and /app: the compiled server, its rules and policies, and the packages
// `npm prune --omit=dev` would keep, less those scripts/prune-build-only.mjs finds only build
// re2's addon.
import { execFileSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildOnlyPaths } from "./prune-build-only.mjs";

/** Where the image's node is: the Dockerfile's ENTRYPOINT and HEALTHCHECK name it. */
export const NODE_PATH = "/usr/local/bin/node";

/** The app's folder: the Dockerfile's WORKDIR. */
export const APP_DIR = "/app";

/**
 * What the server reads from the repository at run time, node_modules aside: package.json (how the
 * code finds the package root), the compiled server (not dist/bench, which a host build also
 * writes), the rule packs, and the default policy with its schema.
 */
export const APP_PATHS = ["package.json", "dist/ext-proc", "dist/protos", "ext-proc/rules", "ext-proc/policies"];

/** re2's native addon: of everything its build writes, the one file loaded at run time. */
const ADDON = "node_modules/re2/build/Release/re2.node";

/**
 * What in re2's package only builds the addon: node-gyp's input (binding.gyp) and output (build/,
 * the addon aside), the addon's C++ sources (lib/), RE2's and Abseil's sources (vendor/), and a
 * script that checks a build.
 */
const RE2_BUILD_ONLY = ["binding.gyp", "build", "lib", "scripts", "vendor"];

/** The user the Dockerfile's USER names, by number. */
const USER = { name: "meshrasp", uid: 1000, gid: 1000 };

/** Runs a command and returns its output; the error names the command and what it printed. */
function run(command, args) {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const said = `${error.stderr ?? ""}${error.stdout ?? ""}`.trim() || error.message;
    throw new Error(`${command} ${args.join(" ")} failed: ${said}`);
  }
}

/**
 * The shared libraries the dynamic loader maps for `binary`, the loader itself included, as the
 * absolute paths ldd prints (the kernel's vDSO, which has no file, left out).
 */
export function sharedLibraries(binary) {
  const libraries = [];
  for (const line of run("ldd", [binary]).split("\n")) {
    const text = line.trim();
    if (/=>\s*not found/.test(text)) throw new Error(`${binary} needs ${text.split(/\s/)[0]}, which ldd cannot find`);
    const path = /^(?:\S+\s+=>\s+)?(\/\S+)\s+\(0x[0-9a-f]+\)$/.exec(text)?.[1];
    if (path !== undefined) libraries.push(path);
  }
  return libraries;
}

/** Lockfile paths of the packages to ship: production ones, less what only builds re2's addon. */
export function productionPackages(lock, manifest) {
  if (lock.packages === undefined) throw new Error("package-lock.json has no `packages`: lockfileVersion 2 or later is needed");
  const buildOnly = new Set(buildOnlyPaths(lock, manifest));
  return Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith("node_modules/") && entry.dev !== true && !buildOnly.has(path))
    .map(([path]) => path)
    .sort();
}

/** Copies a file or folder as reading it sees it (symbolic links followed), without the `skip`ped paths. */
function copyTree(from, to, skip = new Set()) {
  const stat = statSync(from);
  if (stat.isDirectory()) {
    mkdirSync(to, { recursive: true });
    for (const name of readdirSync(from)) {
      if (!skip.has(join(from, name))) copyTree(join(from, name), join(to, name), skip);
    }
  } else if (stat.isFile()) {
    mkdirSync(dirname(to), { recursive: true });
    copyFileSync(from, to);
  } else {
    throw new Error(`${from} is neither a file nor a folder`);
  }
}

/**
 * Folders 0755, files 0644 (0755 when executable), /tmp 1777: the owner (root in the image) alone
 * can write, so the runtime user can read and run the code but not change it.
 */
function settleModes(root, dir = root) {
  chmodSync(dir, dir === join(root, "tmp") ? 0o1777 : 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) settleModes(root, path);
    else chmodSync(path, (statSync(path).mode & 0o111) === 0 ? 0o644 : 0o755);
  }
}

/** Regular files under `dir` and their total size in bytes (links not followed). */
export function treeSize(dir) {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      const below = treeSize(path);
      files += below.files;
      bytes += below.bytes;
    } else if (entry.isFile()) {
      files += 1;
      bytes += lstatSync(path).size;
    }
  }
  return { files, bytes };
}

/**
 * Writes the runtime root filesystem for the repository at `repoRoot` (installed and built) into
 * `outDir`, which must be empty or not exist yet; returns its regular files' count and bytes.
 */
export function assembleRuntimeRoot(repoRoot, outDir) {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) throw new Error(`${outDir} is not empty`);
  const app = join(outDir, APP_DIR);
  for (const path of [...APP_PATHS, ADDON]) {
    if (!existsSync(join(repoRoot, path))) {
      throw new Error(`${join(repoRoot, path)} is missing: run this from the repository root, after npm ci and npm run build`);
    }
  }

  copyTree(process.execPath, join(outDir, NODE_PATH));
  const libraries = new Set([process.execPath, join(repoRoot, ADDON)].flatMap(sharedLibraries));
  for (const library of libraries) copyTree(library, join(outDir, library));

  for (const path of APP_PATHS) copyTree(join(repoRoot, path), join(app, path));
  const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8"));
  const manifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
  for (const path of productionPackages(lock, manifest)) {
    const from = join(repoRoot, path);
    if (!existsSync(from)) {
      // npm ci leaves out optional packages made for another platform.
      if (lock.packages[path].optional === true) continue;
      throw new Error(`${path} is missing: run npm ci first`);
    }
    // Nested packages are lockfile entries of their own, shipped (or not) on their own account.
    const skip = new Set([join(from, "node_modules")]);
    if (path === "node_modules/re2") for (const name of RE2_BUILD_ONLY) skip.add(join(from, name));
    copyTree(from, join(app, path), skip);
  }
  copyTree(join(repoRoot, ADDON), join(app, ADDON));
  run("strip", ["--strip-debug", join(app, ADDON)]);

  mkdirSync(join(outDir, "etc"), { recursive: true });
  writeFileSync(
    join(outDir, "etc/passwd"),
    `root:x:0:0:root:/root:/sbin/nologin\n${USER.name}:x:${USER.uid}:${USER.gid}:${USER.name}:/nonexistent:/sbin/nologin\n`,
  );
  writeFileSync(join(outDir, "etc/group"), `root:x:0:\n${USER.name}:x:${USER.gid}:\n`);
  // /tmp for scratch space (a tmpfs over it when the root is read-only); /proc and /dev to mount on.
  for (const dir of ["tmp", "proc", "dev"]) mkdirSync(join(outDir, dir), { recursive: true });
  settleModes(outDir);
  return treeSize(outDir);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outDir = process.argv[2];
  try {
    if (outDir === undefined) throw new Error("usage: node scripts/assemble-runtime-root.mjs <outDir>");
    const { files, bytes } = assembleRuntimeRoot(process.cwd(), outDir);
    console.log(`${outDir}: ${files} files, ${bytes} bytes (${(bytes / 2 ** 20).toFixed(1)} MiB)`);
  } catch (error) {
    console.error(`assemble-runtime-root: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}
