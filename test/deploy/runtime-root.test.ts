/**
 * The image without Docker. Its runtime stage is `scratch` plus one copy of the root filesystem
 * that scripts/assemble-runtime-root.mjs writes in the build stage, so running that script on this
 * checkout (installed and built) gives the image's content: its regular files' size is the image's
 * size, an estimate in one respect: the tree takes the binary of the node running the test, where the
 * image takes the one of the Dockerfile's node base image (.ci/run runs the test on that release line
 * too). Without privileges, node runs from the tree through the tree's own loader and loads re2
 * from it, which proves the copied libraries are all they need. As root with unshare, the tree is
 * also served from the way a container runtime would run the image: a private mount namespace, the
 * tree read-only, a tmpfs on /tmp, and the Dockerfile's USER, WORKDIR, ENV, ENTRYPOINT, CMD and
 * HEALTHCHECK. Where that cannot be done, that part is reported as skipped, with the reason in its
 * name.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, posix } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectContinue, expectDeny } from "../conformance/answer-checks.js";
import { getRequest, newRequestId } from "../conformance/envoy-messages.js";
import { FakeEnvoy } from "../conformance/fake-envoy.js";
import { healthcheckCommand, instructions, runtimeStage } from "./helpers/dockerfile.js";
import { repoPath, repoRoot } from "./helpers/repo.js";
// @ts-expect-error: a plain .mjs build script, without type declarations
import { assembleRuntimeRoot, debianPackage, DPKG_STATUS_DIR, NODE_PATH, treeSize } from "../../scripts/assemble-runtime-root.mjs";
// @ts-expect-error: a plain .mjs build script, without type declarations
import { buildOnlyPaths } from "../../scripts/build-only-packages.mjs";

interface Size {
  files: number;
  bytes: number;
}
interface Lock {
  packages: Record<string, { dev?: boolean; dependencies?: Record<string, string> }>;
}
interface Manifest {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}
const assemble = assembleRuntimeRoot as (repoRoot: string, outDir: string) => Size;
const sizeOf = treeSize as (dir: string) => Size;
const nodePath = NODE_PATH as string;
const packageOf = debianPackage as (library: string) => string;
const statusDir = DPKG_STATUS_DIR as string;

/** The target: "Image size ≤ 200 MB", in the decimal megabytes `docker images` shows. */
const IMAGE_LIMIT_BYTES = 200 * 1000 * 1000;

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

function oneLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}

/** Lockfile-style paths of the packages under `dir`/node_modules, nested ones included. */
function installedPackages(dir: string, prefix = ""): string[] {
  const modules = join(dir, "node_modules");
  if (!existsSync(modules)) return [];
  return readdirSync(modules)
    .flatMap((name) => (name.startsWith("@") ? readdirSync(join(modules, name)).map((inScope) => `${name}/${inScope}`) : [name]))
    .flatMap((name) => [`${prefix}node_modules/${name}`, ...installedPackages(join(modules, name), `${prefix}node_modules/${name}/`)])
    .sort();
}

/** Shared libraries outside /app, by their names (libc.so.6, ld-linux-x86-64.so.2, …). */
const isLibrary = (path: string): boolean => !path.startsWith("app/") && /\.so(\.\d+)*$/.test(path);

/** The program interpreter an ELF executable names (PT_INTERP): 64-bit little-endian ELF only. */
function elfInterpreter(file: string): string {
  const fd = openSync(file, "r");
  const read = (position: number, length: number): Buffer => {
    const buffer = Buffer.alloc(length);
    if (readSync(fd, buffer, 0, length, position) !== length) throw new Error(`${file} ends before byte ${position + length}`);
    return buffer;
  };
  try {
    const header = read(0, 64);
    if (header.readUInt32BE(0) !== 0x7f_45_4c_46) throw new Error(`${file} is not an ELF file`);
    // e_ident[EI_CLASS] 2 is 64-bit, e_ident[EI_DATA] 1 little-endian: the offsets below are theirs.
    if (header[4] !== 2 || header[5] !== 1) throw new Error(`${file}: ELF class ${header[4]}, data ${header[5]}; only 64-bit little-endian is read`);
    const [phoff, phentsize, phnum] = [Number(header.readBigUInt64LE(0x20)), header.readUInt16LE(0x36), header.readUInt16LE(0x38)];
    for (let i = 0; i < phnum; i += 1) {
      const programHeader = read(phoff + i * phentsize, 56);
      if (programHeader.readUInt32LE(0) !== 3) continue; // PT_INTERP
      const [offset, size] = [Number(programHeader.readBigUInt64LE(8)), Number(programHeader.readBigUInt64LE(32))];
      return read(offset, size).toString("latin1").replace(/\0$/, "");
    }
    throw new Error(`${file} has no PT_INTERP: it is not a dynamically linked executable`);
  } finally {
    closeSync(fd);
  }
}

/**
 * Run by `unshare --mount --propagation private`, so its mounts end with the process: the tree
 * bound read-only, /proc and /dev as a container runtime provides them, a tmpfs on /tmp; then the
 * command with the tree as its root, in the working directory, as uid:gid without supplementary
 * groups. Arguments: root, working directory, uid:gid, command...
 */
const SANDBOX = `set -e
root=$1 wd=$2 uid=\${3%:*} gid=\${3#*:}
shift 3
mount --bind "$root" "$root"
mount -o remount,ro,bind "$root"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"
mount -t tmpfs -o mode=1777,size=16m tmpfs "$root/tmp"
exec unshare --root="$root" --wd="$wd" --setgid="$gid" --setuid="$uid" -- "$@"`;

/** Why the tree cannot be served from here, or undefined when it can. */
async function sandboxUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "not root: mount namespaces and bind mounts need it";
  const probe = mkdtempSync(join(tmpdir(), "meshrasp-probe-"));
  try {
    const script = 'mount -t tmpfs tmpfs "$1" && exec unshare --root=/ --wd=/ --setgid=1000 --setuid=1000 -- true';
    await promisify(execFile)("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "probe", probe], { timeout: 10_000 });
    return undefined;
  } catch (error) {
    return `cannot mount in a private mount namespace and switch root and user: ${oneLine(error)}`;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** The image's configuration, as the Dockerfile's runtime stage sets it. */
const image = {
  user: instructions(runtimeStage, "USER").at(-1) ?? "",
  workdir: instructions(runtimeStage, "WORKDIR").at(-1) ?? "/",
  // Docker gives PATH to containers of an image that sets none; here it also finds mount and unshare.
  env: {
    PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    // NAME=value pairs: a value may hold "=" too, so only the first one splits.
    ...Object.fromEntries(instructions(runtimeStage, "ENV").flatMap((args) => args.split(" ").map((pair) => /^([^=]*)=(.*)$/s.exec(pair)?.slice(1) ?? [pair, ""]))),
  } as Record<string, string>,
  command: [
    ...(JSON.parse(instructions(runtimeStage, "ENTRYPOINT")[0] ?? "[]") as string[]),
    ...(JSON.parse(instructions(runtimeStage, "CMD")[0] ?? "[]") as string[]),
  ],
  healthcheck: healthcheckCommand(instructions(runtimeStage, "HEALTHCHECK")[0] ?? ""),
};

const sandboxSkip = await sandboxUnavailable();

describe("the runtime root filesystem (scripts/assemble-runtime-root.mjs)", () => {
  let root = "";
  let size: Size = { files: 0, bytes: 0 };
  let entries: string[] = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "meshrasp-rootfs-"));
    size = assemble(repoRoot, root);
    entries = readdirSync(root, { recursive: true, encoding: "utf8" });
  }, 60_000);

  afterAll(() => {
    if (root !== "") rmSync(root, { recursive: true, force: true });
  });

  it("is at most 200 MB: what the image holds", () => {
    const node = statSync(join(root, nodePath)).size;
    const [modules, dist, rules] = ["node_modules", "dist", "ext-proc"].map((path) => sizeOf(join(root, "app", path)).bytes) as [number, number, number];
    const records = sizeOf(join(root, "var")).bytes + sizeOf(join(root, "usr/share/doc")).bytes;
    const libraries = size.bytes - node - records - sizeOf(join(root, "app")).bytes - sizeOf(join(root, "etc")).bytes;
    console.log(
      `runtime root: ${size.files} files, ${size.bytes} bytes (${mib(size.bytes)}): node ${mib(node)}, shared libraries ${mib(libraries)}, ` +
        `their packages' dpkg records and copyrights ${mib(records)}, node_modules ${mib(modules)}, dist ${mib(dist)}, rules and policies ${mib(rules)}`,
    );
    expect(size.bytes).toBeLessThanOrEqual(IMAGE_LIMIT_BYTES);
  });

  it("holds node and nothing else to run: no shell, package manager, compiler or addon sources", () => {
    const programs = entries.filter((path) => !path.startsWith("app/") && /(^|\/)s?bin\//.test(path) && statSync(join(root, path)).isFile());
    expect(programs).toEqual([nodePath.slice(1)]);
    const names = new Set(entries.map((path) => posix.basename(path)));
    for (const tool of ["sh", "bash", "npm", "npx", "corepack", "yarn", "yarnpkg", "node-gyp", "gcc", "g++", "cc", "make", "python3", "strip"]) {
      expect(names.has(tool), tool).toBe(false);
    }
    for (const path of ["app/node_modules/node-gyp", "app/node_modules/nan", "app/node_modules/install-artifact-from-github", "app/node_modules/.bin", "app/node_modules/re2/vendor", "usr/local/lib/node_modules"]) {
      expect(existsSync(join(root, path)), path).toBe(false);
    }
    expect(entries.filter((path) => /\.(c|cc|cpp|h|hpp|o|a|gyp|mk)$/.test(path))).toEqual([]);
    expect(readdirSync(join(root, "app/node_modules/re2/build"), { recursive: true })).toEqual(["Release", "Release/re2.node"]);
    expect(readFileSync(join(root, "app/node_modules/re2/build/Release/re2.node")).includes(".debug_info"), "re2.node debug sections").toBe(false);
  });

  it("has the production packages the lockfile names and no others: no dev dependency, no addon build tree", () => {
    const lock = JSON.parse(readFileSync(repoPath("package-lock.json"), "utf8")) as Lock;
    const manifest = JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as Manifest;
    const buildOnly = new Set(buildOnlyPaths(lock, manifest) as string[]);
    const production = Object.keys(lock.packages).filter((path) => path.startsWith("node_modules/") && lock.packages[path]?.dev !== true && !buildOnly.has(path));
    expect(installedPackages(join(root, "app"))).toEqual(production.sort());
    for (const name of Object.keys(manifest.dependencies)) expect(production, name).toContain(`node_modules/${name}`);
    // @types/node is a devDependency that protobufjs also depends on: it ships, the rest do not.
    const devOnly = Object.keys(manifest.devDependencies).filter((name) => lock.packages[`node_modules/${name}`]?.dev === true);
    expect(devOnly).toEqual(expect.arrayContaining(["typescript", "vitest", "eslint"]));
    for (const name of devOnly) expect(existsSync(join(root, "app/node_modules", name)), name).toBe(false);
  });

  it("names the Dockerfile's USER in /etc/passwd and lets it read and run everything but write only /tmp", () => {
    const [uid, gid] = image.user.split(":");
    expect(readFileSync(join(root, "etc/passwd"), "utf8")).toMatch(new RegExp(`^meshrasp:x:${uid}:${gid}:[^:]*:/nonexistent:/sbin/nologin$`, "m"));
    expect(readFileSync(join(root, "etc/group"), "utf8")).toMatch(new RegExp(`^meshrasp:x:${gid}:$`, "m"));
    // Names are looked up in /etc/hosts before DNS, as in a distribution's image.
    expect(readFileSync(join(root, "etc/nsswitch.conf"), "utf8")).toMatch(/^hosts:\s+files dns$/m);
    expect(statSync(join(root, "tmp")).mode & 0o7777).toBe(0o1777);
    for (const path of ["", ...entries.filter((p) => p !== "tmp")]) {
      const stat = statSync(join(root, path));
      expect(stat.mode & 0o022, `${path} writable by group or others`).toBe(0);
      expect(stat.mode & (stat.isDirectory() ? 0o005 : 0o004), `${path} readable by others`).toBe(stat.isDirectory() ? 0o005 : 0o004);
    }
    expect(statSync(join(root, nodePath)).mode & 0o001).toBe(0o001);
  });

  it("records each library's Debian package as distroless does, for image scanners: a dpkg status file and the copyright", () => {
    const libraries = entries.filter(isLibrary);
    const libc = libraries.find((path) => posix.basename(path) === "libc.so.6");
    expect(libc, "libc.so.6 in the tree").toBeDefined();
    // The script's dpkg-query lookup, on the build machine's path of each copied library.
    const packages = new Map(libraries.map((path) => [path, packageOf(`/${path}`).split(":")[0] ?? ""]));
    expect(packages.get(libc ?? "")).toBe("libc6");
    expect(readdirSync(join(root, statusDir)).sort()).toEqual([...new Set(packages.values())].sort());
    for (const [library, name] of packages) {
      const record = readFileSync(join(root, statusDir, name), "utf8");
      // One stanza: fields and their continuation lines, no blank line.
      expect(record, `${name}'s record (for ${library})`).toMatch(/^(?:[\w-]+: .*\n(?: .*\n)*)+$/);
      expect(record).toMatch(new RegExp(`^Package: ${name.replace(/[+.]/g, "\\$&")}$`, "m"));
      expect(record).toMatch(/^Version: \S+$/m);
      expect(record).toMatch(/^Architecture: \S+$/m);
      expect(record).toMatch(/^Status: install ok installed$/m);
      const copyright = join(root, "usr/share/doc", name, "copyright");
      expect(lstatSync(copyright, { throwIfNoEntry: false })?.isFile(), `${copyright} is a file`).toBe(true);
      expect(statSync(copyright).size).toBeGreaterThan(0);
    }
  });

  it("runs node and re2's addon on the tree's libraries alone, through the loader node names (no root needed)", async () => {
    const interpreter = elfInterpreter(join(root, nodePath));
    expect(lstatSync(join(root, interpreter), { throwIfNoEntry: false })?.isFile(), `${interpreter} is a file in the tree`).toBe(true);
    const libraryPath = [...new Set(entries.filter(isLibrary).map((path) => join(root, posix.dirname(path))))].join(":");
    // The loader still falls back to the build machine's default folders (/lib, /usr/lib) for a
    // library it does not find in --library-path, so the process's maps say where each came from.
    const code = `const RE2 = require(${JSON.stringify(join(root, "app/node_modules/re2"))});
      const mapped = require("fs").readFileSync("/proc/self/maps", "utf8").split("\\n").map((line) => line.split(/\\s+/)[5] ?? "");
      console.log(JSON.stringify({ match: new RE2("a(b+)c", "i").exec("xABbC")?.[1], mapped: [...new Set(mapped.filter((p) => p.startsWith("/")))] }));`;
    const { stdout } = await promisify(execFile)(
      join(root, interpreter),
      ["--inhibit-cache", "--library-path", libraryPath, join(root, nodePath), "-e", code],
      { env: {}, timeout: 30_000 },
    );
    const { match, mapped } = JSON.parse(stdout) as { match: string; mapped: string[] };
    expect(match).toBe("Bb");
    const real = realpathSync(root);
    expect(mapped).toContain(join(real, "app/node_modules/re2/build/Release/re2.node"));
    expect(mapped).toContain(join(real, interpreter));
    expect(mapped.filter((path) => /\.(so|node)(\.|$)/.test(path) && !path.startsWith(`${real}/`)), "shared objects from outside the tree").toEqual([]);
  });

  describe.skipIf(sandboxSkip !== undefined)(
    sandboxSkip === undefined ? "served from, like the image" : `served from, like the image (skipped: ${sandboxSkip})`,
    () => {
      let server: ChildProcessWithoutNullStreams | undefined;
      let exited: Promise<{ code: number | null; stderr: string }> = Promise.resolve({ code: null, stderr: "" });
      let grpc = "";
      let admin = "";
      let envoy: FakeEnvoy | undefined;

      /** Runs a command in the sandbox as the image would, in its own process group. */
      function inSandbox(command: string[], env: Record<string, string>): { child: ChildProcessWithoutNullStreams; exit: typeof exited } {
        const args = ["--mount", "--propagation", "private", "sh", "-c", SANDBOX, "sandbox", root, image.workdir, image.user, ...command];
        const child = spawn("unshare", args, { env: { ...image.env, ...env }, detached: true, stdio: "pipe" });
        let stderr = "";
        child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        const exit = new Promise<{ code: number | null; stderr: string }>((done) => {
          child.on("exit", (code) => done({ code, stderr }));
          child.on("error", (error) => done({ code: null, stderr: `${stderr}${error.message}` }));
        });
        return { child, exit };
      }

      async function healthcheck(adminAddress: string): Promise<number | null> {
        const { child, exit } = inSandbox(image.healthcheck, { MESHRASP_ADMIN: adminAddress });
        const timer = setTimeout(() => child.pid !== undefined && process.kill(-child.pid, "SIGKILL"), 10_000);
        const { code } = await exit;
        clearTimeout(timer);
        return code;
      }

      beforeAll(async () => {
        // Port 0: the kernel picks free ports; the log line says which.
        const started = inSandbox(image.command, { MESHRASP_GRPC: "127.0.0.1:0", MESHRASP_ADMIN: "127.0.0.1:0" });
        server = started.child;
        exited = started.exit;
        for await (const line of createInterface({ input: server.stdout })) {
          const record = JSON.parse(line) as { event?: string; grpc?: string; admin?: string };
          if (record.event === "listening" && record.grpc !== undefined && record.admin !== undefined) {
            [grpc, admin] = [record.grpc, record.admin];
            break;
          }
        }
        server.stdout.resume();
        if (admin === "") throw new Error(`meshrasp exited before listening: ${(await exited).stderr}`);
        envoy = new FakeEnvoy(grpc);
      }, 30_000);

      afterAll(() => {
        envoy?.close();
        if (server?.pid !== undefined && server.exitCode === null && server.signalCode === null) process.kill(-server.pid, "SIGKILL");
      });

      it("runs as the Dockerfile's USER, in its WORKDIR, on the tree mounted read-only, with a tmpfs /tmp", () => {
        const pid = server?.pid ?? expect.unreachable();
        const [uid, gid] = image.user.split(":");
        const status = readFileSync(`/proc/${pid}/status`, "utf8");
        expect(status).toMatch(new RegExp(`^Uid:\\t${uid}\\t${uid}\\t${uid}\\t${uid}$`, "m"));
        expect(status).toMatch(new RegExp(`^Gid:\\t${gid}\\t${gid}\\t${gid}\\t${gid}$`, "m"));
        expect(status).toMatch(/^Groups:[ \t]*$/m);
        expect(readlinkSync(`/proc/${pid}/root`)).toBe(realpathSync(root));
        expect(readlinkSync(`/proc/${pid}/cwd`)).toBe(join(realpathSync(root), image.workdir));
        // mountinfo: field 5 is the mount point as the process sees it, 6 its options; the type follows " - ".
        const mounts = readFileSync(`/proc/${pid}/mountinfo`, "utf8")
          .split("\n")
          .map((line) => {
            const [fields = "", source = ""] = line.split(" - ");
            const [, , , , point, options] = fields.split(" ");
            return { point, options, type: source.split(" ")[0] };
          });
        expect(mounts.findLast((m) => m.point === "/")?.options).toMatch(/(^|,)ro(,|$)/);
        expect(mounts.findLast((m) => m.point === "/tmp")?.type).toBe("tmpfs");
      });

      it("answers /healthz, and the Dockerfile's HEALTHCHECK passes against it (and fails on another port)", async () => {
        expect((await fetch(`http://${admin}/healthz`)).status).toBe(200);
        expect(await healthcheck(admin)).toBe(0);
        expect(await healthcheck(grpc)).toBe(1);
      });

      it("denies an attack over ext_proc and lets a plain request through", async () => {
        const requestId = newRequestId();
        const denied = envoy?.open() ?? expect.unreachable();
        expectDeny(await denied.exchange(getRequest("/search?q=1'%20OR%20'1'%3D'1", requestId)), { requestId });
        denied.closeLikeEnvoy();
        const allowed = envoy?.open() ?? expect.unreachable();
        expectContinue(await allowed.exchange(getRequest("/search?q=running+shoes")), "requestHeaders");
        allowed.closeLikeEnvoy();
      });

      it("exits 0 on SIGTERM", async () => {
        envoy?.close();
        envoy = undefined;
        server?.kill("SIGTERM");
        expect((await exited).code).toBe(0);
      });
    },
  );
});
