#!/usr/bin/env node
// Writes the runtime image's whole root filesystem into one folder, which the Dockerfile's
// runtime stage copies onto `scratch` as its only layer: so the image holds exactly this folder,
// and test/deploy/runtime-root.test.ts, which runs this script too, measures the image's size
// without Docker. Run from the repository root after `npm ci` and `npm run build`:
//   node scripts/assemble-runtime-root.mjs <outDir>
// The folder gets this Node binary and the shared libraries ldd finds for it and for re2's addon
// (no shell, no package manager, no compiler); for each library, its Debian package's dpkg status
// record in /var/lib/dpkg/status.d/ and its copyright file, as distroless images have them, so
// that image scanners (Trivy, Grype, Docker Scout) still see glibc and GCC's runtime and report
// their CVEs; /etc/passwd and /etc/group naming the meshrasp user, an empty /tmp; and /app: the
// compiled server, its rules and policies, and the packages `npm prune --omit=dev` would keep,
// less those scripts/build-only-packages.mjs finds only build re2's addon (the addon's debug
// symbols stripped). Symbolic links are followed for node and the libraries (the loader's names
// are links) and refused in /app, where one would pull a tree from outside the checkout.
import { execFileSync, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildOnlyPaths } from "./build-only-packages.mjs";

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

/** Where image scanners look for the dpkg records of a distroless image: one file per package. */
export const DPKG_STATUS_DIR = "/var/lib/dpkg/status.d";

/** Fields of a dpkg status record about files in /etc the image does not have: left out of its copy. */
const STATUS_FIELDS_LEFT_OUT = new Set(["Conffiles"]);

/** The user the Dockerfile's USER names, by number. */
const USER = { name: "meshrasp", uid: 1000, gid: 1000 };

/** Why the dpkg tools are needed, for the error when they are missing. */
const NEED_DPKG =
  "the image's package records come from the build image's dpkg database, without which image scanners " +
  "would not see the copied glibc and GCC runtime libraries; assemble on a Debian-based image (the Dockerfile's build stage is)";

/** The error for a command that is not installed, saying what it is needed for. */
function notInstalled(command, why) {
  return new Error(`${command} is not installed (not found on PATH)${why === undefined ? "" : `: ${why}`}`);
}

/** Runs a command and returns its output; the error names the command and what it printed. */
function run(command, args, why) {
  try {
    return execFileSync(command, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    if (error.code === "ENOENT") throw notInstalled(command, why);
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

/** The same file's other name under merged /usr, where /lib is a link to /usr/lib: dpkg knows only one. */
function mergedUsrAlias(path) {
  return path.startsWith("/usr/") ? path.slice("/usr".length) : `/usr${path}`;
}

/**
 * The Debian package that installed `library` (an ldd path), as dpkg-query names it ("libc6:amd64").
 * dpkg registers the name the package ships, which merged /usr may reach by another path: the ldd
 * name (/lib/x86_64-linux-gnu/libc.so.6) and the file it resolves to (/usr/lib/…) are both tried,
 * each with and without /usr.
 */
export function debianPackage(library) {
  const real = realpathSync(library);
  const candidates = [...new Set([library, real].flatMap((path) => [path, mergedUsrAlias(path)]))];
  const result = spawnSync("dpkg-query", ["-S", ...candidates], { encoding: "utf8" });
  if (result.error?.code === "ENOENT") throw notInstalled("dpkg-query", NEED_DPKG);
  if (result.error !== undefined) throw result.error;
  // One line per path found: "pkg[:arch][, pkg[:arch]…]: path"; diversions are reported too.
  const owners = new Set();
  for (const line of result.stdout.split("\n")) {
    const [, packages, path] = /^(.+?): (\/.*)$/.exec(line) ?? [];
    if (packages === undefined || packages.startsWith("diversion by ") || !candidates.includes(path)) continue;
    for (const name of packages.split(", ")) owners.add(name);
  }
  if (owners.size !== 1) {
    const found = owners.size === 0 ? "no package" : `${owners.size} packages (${[...owners].join(", ")})`;
    throw new Error(`dpkg-query -S finds ${found} for ${library} as ${candidates.join(" or ")}: ${result.stderr.trim()}`);
  }
  return [...owners][0];
}

/**
 * Writes `pkg`'s dpkg status record to DPKG_STATUS_DIR/<name> and copies its copyright file to
 * /usr/share/doc/<name>/, as distroless does: what scanners read to know a package and its version.
 */
function writePackageRecord(outDir, pkg) {
  const name = pkg.split(":")[0];
  const fields = run("dpkg-query", ["-s", pkg], NEED_DPKG)
    .trimEnd()
    .split(/\n(?=\S)/)
    .filter((field) => !STATUS_FIELDS_LEFT_OUT.has(field.slice(0, field.indexOf(":"))));
  if (!fields.includes("Status: install ok installed")) throw new Error(`dpkg-query -s ${pkg}: not installed as dpkg sees it`);
  mkdirSync(join(outDir, DPKG_STATUS_DIR), { recursive: true });
  writeFileSync(join(outDir, DPKG_STATUS_DIR, name), `${fields.join("\n")}\n`);
  const copyright = `/usr/share/doc/${name}/copyright`;
  if (!existsSync(copyright)) throw new Error(`${copyright} is missing: every Debian package ships one, and the image should carry it`);
  copyFile(copyright, join(outDir, copyright));
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

/** Copies a file of the build image as reading it sees it: a symbolic link is followed to its target's content. */
function copyFile(from, to) {
  if (!statSync(from).isFile()) throw new Error(`${from} is not a file`);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

/**
 * Copies a file or folder of the checkout, without the `skip`ped paths. A symbolic link is refused:
 * an `npm link`ed package, say, would pull a tree from outside the checkout into the image (and a
 * link to a folder above it would never end).
 */
function copyTree(from, to, skip = new Set()) {
  const stat = lstatSync(from);
  if (stat.isSymbolicLink()) {
    throw new Error(`${from} is a symbolic link (to ${readlinkSync(from)}): the image takes only what is in the checkout`);
  }
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

/** `path` in the checkout at `repoRoot`, refused when a folder on the way to it is a symbolic link (see copyTree). */
function inCheckout(repoRoot, path) {
  const from = join(repoRoot, path);
  const folder = realpathSync(dirname(from));
  if (folder !== join(realpathSync(repoRoot), dirname(path))) {
    throw new Error(`${from} lies behind a symbolic link (its folder is ${folder}): the image takes only what is in the checkout`);
  }
  return from;
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

  copyFile(process.execPath, join(outDir, NODE_PATH));
  const libraries = new Set([process.execPath, join(repoRoot, ADDON)].flatMap(sharedLibraries));
  for (const library of libraries) copyFile(library, join(outDir, library));
  // Node has no record: the node image installs nodejs.org's build, not a Debian package.
  for (const pkg of new Set([...libraries].map(debianPackage))) writePackageRecord(outDir, pkg);

  for (const path of APP_PATHS) copyTree(inCheckout(repoRoot, path), join(app, path));
  const lock = JSON.parse(readFileSync(join(repoRoot, "package-lock.json"), "utf8"));
  const manifest = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
  for (const path of productionPackages(lock, manifest)) {
    const from = join(repoRoot, path);
    if (lstatSync(from, { throwIfNoEntry: false }) === undefined) {
      // npm ci leaves out optional packages made for another platform.
      if (lock.packages[path].optional === true) continue;
      throw new Error(`${path} is missing: run npm ci first`);
    }
    // Nested packages are lockfile entries of their own, shipped (or not) on their own account.
    const skip = new Set([join(from, "node_modules")]);
    if (path === "node_modules/re2") for (const name of RE2_BUILD_ONLY) skip.add(join(from, name));
    copyTree(inCheckout(repoRoot, path), join(app, path), skip);
  }
  copyTree(inCheckout(repoRoot, ADDON), join(app, ADDON));
  run("strip", ["--strip-debug", join(app, ADDON)]);

  mkdirSync(join(outDir, "etc"), { recursive: true });
  writeFileSync(
    join(outDir, "etc/passwd"),
    `root:x:0:0:root:/root:/sbin/nologin\n${USER.name}:x:${USER.uid}:${USER.gid}:${USER.name}:/nonexistent:/sbin/nologin\n`,
  );
  writeFileSync(join(outDir, "etc/group"), `root:x:0:\n${USER.name}:x:${USER.gid}:\n`);
  // Without it glibc asks DNS before /etc/hosts (which the container runtime provides), and a name
  // such as localhost in a listen address may not resolve where no DNS server answers for it.
  writeFileSync(join(outDir, "etc/nsswitch.conf"), "passwd: files\ngroup: files\nhosts: files dns\n");
  // /tmp for scratch space (a tmpfs over it when the root is read-only); /proc and /dev to mount on.
  for (const dir of ["tmp", "proc", "dev"]) mkdirSync(join(outDir, dir), { recursive: true });
  settleModes(outDir);
  return treeSize(outDir);
}

/**
 * Whether Node runs this file as its script: Node's main module is the file's real path, while
 * argv[1] keeps the name it was given, which may lead through a symbolic link.
 */
function isScript() {
  if (process.argv[1] === undefined) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isScript()) {
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
