// The one place that knows how our .proto sources are assembled: Envoy's v3 API as shipped by
// @grpc/grpc-js-xds (an old snapshot), with the files in protos/src/ laid over it (our own, newer
// descriptions of the same packages). Code generation and the deployment tests both start here, so
// the schema the tests check configs against is the schema the server is generated from.
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const deps = join(root, "node_modules/@grpc/grpc-js-xds/deps");
const overrides = join(root, "protos/src");
/**
 * buf is run through `npm exec` at a pinned version rather than installed as a devDependency: its
 * npm package lists a binary package per platform as optional dependencies, and a lockfile that
 * cannot resolve all of them (a registry mirror without them) makes `npm ci` refuse to install.
 * Only regeneration needs buf; the generated files are committed.
 */
export const BUF_VERSION = "1.75.0";

/** Runs buf with the given arguments in `cwd`. */
export function runBuf(args, cwd) {
  execFileSync("npm", ["exec", "--yes", `--package=@bufbuild/buf@${BUF_VERSION}`, "--", "buf", ...args], {
    cwd,
    stdio: ["ignore", "inherit", "inherit"],
  });
}

/** Every file below `dir`, depth first, as absolute paths. */
export function listFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

/**
 * Creates a temporary buf workspace: `<work>/buf.yaml` and the module `<work>/tree/`.
 * The caller removes `work` when done.
 * @returns {string} the workspace directory
 */
export function stageProtoTree() {
  const work = mkdtempSync(join(tmpdir(), "meshrasp-protos-"));
  const tree = join(work, "tree");
  for (const part of ["envoy-api", "xds", "googleapis", "protoc-gen-validate"]) {
    cpSync(join(deps, part), tree, { recursive: true });
  }
  // buf brings its own well-known types; a second copy would be a duplicate definition.
  rmSync(join(tree, "google/protobuf"), { recursive: true, force: true });
  for (const file of listFiles(overrides)) {
    cpSync(file, join(tree, relative(overrides, file)));
  }
  writeFileSync(join(work, "buf.yaml"), "version: v2\nmodules:\n  - path: tree\n");
  return work;
}

/**
 * Compiles the staged tree into a binary FileDescriptorSet (imports and well-known types
 * included): every file under the given folders whose imports, followed all the way down, the
 * snapshot ships. The snapshot lacks e.g. OpenCensus and OpenTelemetry protos, so the few Envoy
 * files built on them are left out rather than failing the whole build.
 * @param {string[]} folders proto folders relative to the tree, e.g. "envoy"
 * @returns {Buffer}
 */
export function buildDescriptorSet(folders) {
  const work = stageProtoTree();
  try {
    const tree = join(work, "tree");
    // The snapshot's Envoy files use a protoc-gen-validate option (string `ignore_empty`) that its
    // own copy of validate.proto predates; declaring it lets those files compile. Field 26 is its
    // number upstream. Code generation never needs this, so only descriptor builds do it.
    const validate = join(tree, "validate/validate.proto");
    const strict = "optional bool strict = 25 [default = true];";
    const text = readFileSync(validate, "utf8");
    if (!text.includes(strict)) throw new Error(`validate.proto changed: "${strict}" not found`);
    writeFileSync(validate, text.replace(strict, `${strict}\n  optional bool ignore_empty = 26;`));

    const resolvable = resolvableFiles(tree);
    const entries = folders.flatMap((folder) =>
      listFiles(join(tree, folder))
        .map((file) => relative(tree, file))
        .filter((file) => file.endsWith(".proto") && resolvable(file)),
    );
    const out = join(work, "descriptors.binpb");
    runBuf(["build", "--as-file-descriptor-set", "-o", out, ...entries.flatMap((e) => ["--path", join("tree", e)])], work);
    return readFileSync(out);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** A predicate: do this file and everything it imports, transitively, exist in `tree`? */
function resolvableFiles(tree) {
  const known = new Map();
  const check = (file) => {
    if (file.startsWith("google/protobuf/")) return true; // buf's own well-known types
    if (!known.has(file)) {
      const path = join(tree, file);
      const imports = existsSync(path)
        ? [...readFileSync(path, "utf8").matchAll(/^import\s+(?:public\s+|weak\s+)?"([^"]+)";/gm)].map((m) => m[1])
        : undefined;
      known.set(file, imports !== undefined && imports.every(check));
    }
    return known.get(file);
  };
  return check;
}
