// The image and the compose demo, checked without Docker: the Dockerfile's inputs exist and
// reach the build, its runtime stage is the root filesystem the build stage assembles and nothing
// else (runtime-root.test.ts checks that root), runs unprivileged and starts the CLI, the compose
// file references only things that exist and wires the services the way envoy.yaml expects, and
// the demo upstream serves what the demos need.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { join, normalize, posix, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { luhnValid } from "../../ext-proc/src/engine/redaction/detectors/credit-card.js";
import { cliEntry } from "./helpers/expectations.js";
import { buildStage, copies, dockerfile, healthcheckCommand, instructions, runtimeStage } from "./helpers/dockerfile.js";
import { asRecord, dig, readYaml, repoPath, repoRoot } from "./helpers/repo.js";
// @ts-expect-error: a plain .mjs build script, without type declarations
import { APP_DIR, APP_PATHS, NODE_PATH } from "../../scripts/assemble-runtime-root.mjs";

const appPaths = APP_PATHS as string[];
const appDir = APP_DIR as string;
const nodePath = NODE_PATH as string;

/** A .dockerignore matcher for the patterns we use: paths, `*` and `**` globs, no negation. */
function dockerIgnored(patterns: string[], path: string): boolean {
  return patterns.some((pattern) => {
    const body = pattern
      .split("/")
      .map((segment) =>
        segment === "**" ? "(?:[^/]+/)*" : `${segment.replace(/[.+?^${}()|[\]\\*]/g, "\\$&").replaceAll("\\*", "[^/]*")}/`,
      )
      .join("")
      .replace(/\/$/, "");
    // A pattern that names a folder excludes everything below it.
    return new RegExp(`^${body}(?:/.*)?$`).test(path);
  });
}

const ignorePatterns = readFileSync(repoPath(".dockerignore"), "utf8")
  .split("\n")
  .map((l) => l.trim())
  .filter((l) => l !== "" && !l.startsWith("#"));
const packageJson = JSON.parse(readFileSync(repoPath("package.json"), "utf8")) as {
  bin: Record<string, string>;
  engines: { node: string };
};

function listTypeScript(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".ts"))
    .map((name) => join(dir, name));
}

const workdir = instructions(buildStage, "WORKDIR")[0] ?? "/";
/** Where the build stage's COPY instructions from the build context put what they copy. */
const copiedIn = copies(buildStage)
  .filter((c) => c.from === undefined)
  .flatMap((c) =>
    c.sources.map((s) => posix.join(workdir, c.destination.endsWith("/") || c.sources.length > 1 ? posix.join(c.destination, posix.basename(s)) : c.destination)),
  );
// Produced by RUN: node_modules by npm ci, dist by the build (tsconfig.build.json's outDir).
const produced = [posix.join(workdir, "node_modules"), posix.join(workdir, "dist")];
const buildRuns = instructions(buildStage, "RUN").join(" && ");
const assembler = "scripts/assemble-runtime-root.mjs";
/** The folder the build stage assembles the runtime root filesystem in. */
const rootfs = /node scripts\/assemble-runtime-root\.mjs (\S+)/.exec(buildRuns)?.[1];

function fromBuildStage(path: string): boolean {
  return [...copiedIn, ...produced].some((p) => path === p || path.startsWith(`${p}/`));
}

describe("Dockerfile", () => {
  it("builds on the Node release line CI tests on, one package.json allows, and runs from scratch", () => {
    expect(dockerfile.stages.map((s) => s.name)).toEqual(["build", "runtime"]);
    expect(runtimeStage.from).toBe("scratch");
    const image = /^node:(\d+)\.(\d+)-bookworm$/.exec(buildStage.from);
    expect(image, buildStage.from).not.toBeNull();
    const tested = /^IMAGE_NODE_VERSION=(\d+)\.(\d+)\.\d+$/m.exec(readFileSync(repoPath(".ci/run"), "utf8"));
    expect(tested, ".ci/run names the release it tests the image's Node with").not.toBeNull();
    expect([image![1], image![2]]).toEqual([tested![1], tested![2]]);
    const [, major, minor] = /^>=(\d+)\.(\d+)/.exec(packageJson.engines.node) ?? [];
    expect(Number(image![1]) > Number(major) || (image![1] === major && Number(image![2]) >= Number(minor))).toBe(true);
  });

  it("copies from the build context only paths that exist and that .dockerignore lets through", () => {
    const fromContext = dockerfile.stages.flatMap(copies).filter((c) => c.from === undefined);
    expect(fromContext.length).toBeGreaterThan(0);
    for (const copy of fromContext) {
      for (const source of copy.sources) {
        expect(existsSync(repoPath(source)), `${source} exists`).toBe(true);
        expect(dockerIgnored(ignorePatterns, normalize(source)), `${source} is not ignored`).toBe(false);
      }
    }
  });

  it("installs, builds re2's addon, compiles, then assembles the runtime root with the scripts it copied in", () => {
    const steps = ["npm ci --ignore-scripts", "npm rebuild re2", "npm run build", `node ${assembler} `].map((step) => buildRuns.indexOf(step));
    expect(steps.every((at) => at >= 0), buildRuns).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
    const buildConfig = JSON.parse(readFileSync(repoPath("tsconfig.json"), "utf8")) as { compilerOptions: { outDir: string } };
    expect(buildConfig.compilerOptions.outDir).toBe("dist");
    const imported = [...readFileSync(repoPath(assembler), "utf8").matchAll(/^import .* from "\.\/([\w.-]+)";$/gm)].map((m) => `scripts/${m[1] ?? ""}`);
    expect(imported).toContain("scripts/build-only-packages.mjs");
    for (const script of [assembler, ...imported]) expect(copiedIn, script).toContain(posix.join(workdir, script));
    const copyAt = buildStage.instructions.findIndex((i) => i.keyword === "COPY" && i.args.includes(assembler));
    const runAt = buildStage.instructions.findIndex((i) => i.keyword === "RUN" && i.args.includes(`node ${assembler}`));
    expect(copyAt).toBeLessThan(runAt);
  });

  it("has a runtime stage that is the assembled root and nothing else: one COPY onto /, no RUN", () => {
    expect(rootfs).toMatch(/^\/\w+$/);
    expect(copies(runtimeStage)).toEqual([{ from: "build", sources: [rootfs], destination: "/" }]);
    expect(instructions(runtimeStage, "ADD")).toEqual([]);
    // No shell to run it with, and nothing to install: the image is what the script assembled.
    expect(instructions(runtimeStage, "RUN")).toEqual([]);
  });

  it("ships what meshrasp reads at run time: package.json, the compiled CLI, rules and policies, all in the build stage", () => {
    expect(appPaths).toEqual(expect.arrayContaining(["package.json", "ext-proc/rules", "ext-proc/policies"]));
    expect(appPaths.some((path) => cliEntry.startsWith(`${path}/`)), cliEntry).toBe(true);
    for (const path of appPaths) {
      expect(fromBuildStage(posix.join(workdir, path)), `${path} comes from the build stage`).toBe(true);
      if (!produced.some((p) => posix.join(workdir, path).startsWith(p))) expect(existsSync(repoPath(path)), path).toBe(true);
    }
    expect(instructions(runtimeStage, "WORKDIR").at(-1)).toBe(appDir);
  });

  it("ships every package file the server's code reads at run time", () => {
    const sources = listTypeScript(repoPath("ext-proc/src")).filter((f) => !f.endsWith(".test.ts"));
    const read = new Set(sources.flatMap((f) => readFileSync(f, "utf8").match(/(?<=")ext-proc\/[\w./-]+(?=")/g) ?? []));
    expect(read.size).toBeGreaterThan(0);
    for (const path of read) {
      expect(appPaths.some((shipped) => path === shipped || path.startsWith(`${shipped}/`)), path).toBe(true);
      expect(existsSync(repoPath(path)), path).toBe(true);
    }
  });

  it("runs as a numeric non-root user", () => {
    expect(instructions(runtimeStage, "USER").at(-1)).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
  });

  it("checks health with the image's node against /healthz on the admin port, and starts the CLI's serve command", () => {
    const [healthcheck = ""] = instructions(runtimeStage, "HEALTHCHECK");
    const [node, flag, code = ""] = healthcheckCommand(healthcheck);
    expect([node, flag]).toEqual([nodePath, "-e"]);
    expect(code).toContain("/healthz");
    expect(code).toContain("9464");
    expect(code).toContain("MESHRASP_ADMIN");
    expect(healthcheck).not.toMatch(/curl|wget/);
    expect(JSON.parse(instructions(runtimeStage, "ENTRYPOINT")[0] ?? "[]")).toEqual([nodePath, cliEntry]);
    expect(JSON.parse(instructions(runtimeStage, "CMD")[0] ?? "[]")).toEqual(["serve"]);
    expect(packageJson.bin.meshrasp).toBe(cliEntry);
    expect(instructions(runtimeStage, "EXPOSE").join(" ").split(" ").sort()).toEqual(["50051", "9464"]);
  });

  it(".dockerignore keeps host builds and native modules out of the context", () => {
    for (const path of ["node_modules", "node_modules/re2/build/Release/re2.node", "dist", ".git", "coverage"]) {
      expect(dockerIgnored(ignorePatterns, path), path).toBe(true);
    }
    expect(dockerIgnored(ignorePatterns, "ext-proc/src/cli/main.ts")).toBe(false);
    expect(dockerIgnored(ignorePatterns, "debug.log")).toBe(true);
    expect(dockerIgnored(ignorePatterns, "ext-proc/notes/debug.log")).toBe(true);
  });
});

const composeDir = repoPath("envoy");
const compose = readYaml(join(composeDir, "docker-compose.yaml"));
const services = asRecord(dig(compose, "services")) ?? {};

/** Host-side bind mounts of a compose service: [host path, container path]. */
function bindMounts(service: unknown): [string, string][] {
  const volumes = dig(service, "volumes");
  return (Array.isArray(volumes) ? volumes : []).flatMap((v) => {
    const [host = "", container = ""] = String(v).split(":");
    return host.startsWith(".") ? [[resolve(composeDir, host), container] as [string, string]] : [];
  });
}

/** The host file a container path resolves to through the service's bind mounts. */
function hostFile(service: unknown, containerPath: string): string | undefined {
  for (const [host, container] of bindMounts(service)) {
    if (containerPath === container) return host;
    if (containerPath.startsWith(`${container}/`)) return join(host, containerPath.slice(container.length + 1));
  }
  return undefined;
}

/** Compose Specification keys: docker compose refuses others when it runs; this finds them without Docker. */
const composeTopLevelKeys = new Set(["name", "services", "networks", "volumes", "configs", "secrets", "include"]);
const composeServiceKeys = new Set(
  (
    "annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs container_name " +
    "cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset credential_spec " +
    "depends_on deploy develop device_cgroup_rules devices dns dns_opt dns_search domainname entrypoint env_file " +
    "environment expose extends external_links extra_hosts group_add healthcheck hostname image init ipc isolation " +
    "labels links logging mac_address mem_limit mem_reservation mem_swappiness memswap_limit network_mode networks " +
    "oom_kill_disable oom_score_adj pid pids_limit platform ports privileged profiles pull_policy read_only restart " +
    "runtime scale secrets security_opt shm_size stdin_open stop_grace_period stop_signal storage_opt sysctls tmpfs " +
    "tty ulimits user userns_mode uts volumes volumes_from working_dir"
  ).split(" "),
);

describe("envoy/docker-compose.yaml", () => {
  it("uses only Compose Specification keys", () => {
    expect(Object.keys(asRecord(compose) ?? {}).filter((k) => !composeTopLevelKeys.has(k))).toEqual([]);
    for (const [name, service] of Object.entries(services)) {
      expect(Object.keys(asRecord(service) ?? {}).filter((k) => !composeServiceKeys.has(k)), name).toEqual([]);
    }
  });

  it("runs Envoy (pinned, 1.36 or later), meshrasp built from our Dockerfile, and the demo upstream", () => {
    expect(Object.keys(services).sort()).toEqual(["envoy", "meshrasp", "upstream"]);
    const [, minor] = /^envoyproxy\/envoy:v1\.(\d+)\.\d+$/.exec(String(dig(services.envoy, "image"))) ?? [];
    expect(Number(minor)).toBeGreaterThanOrEqual(36);
    const context = resolve(composeDir, String(dig(services.meshrasp, "build", "context")));
    expect(context).toBe(repoRoot);
    expect(existsSync(join(context, String(dig(services.meshrasp, "build", "dockerfile"))))).toBe(true);
  });

  it("mounts only files and folders that exist", () => {
    const mounts = Object.values(services).flatMap(bindMounts);
    expect(mounts.length).toBeGreaterThanOrEqual(3);
    for (const [host] of mounts) expect(existsSync(host), host).toBe(true);
  });

  it("gives Envoy envoy.yaml, meshrasp the policy (as a folder) and the upstream its script", () => {
    const envoyCommand = dig(services.envoy, "command") as string[];
    expect(hostFile(services.envoy, envoyCommand[envoyCommand.indexOf("-c") + 1] ?? "")).toBe(join(composeDir, "envoy.yaml"));
    const meshraspCommand = dig(services.meshrasp, "command") as string[];
    const policy = hostFile(services.meshrasp, meshraspCommand[meshraspCommand.indexOf("--policy") + 1] ?? "");
    expect(policy).toBe(join(composeDir, "policy/policy.yaml"));
    expect(existsSync(policy ?? "")).toBe(true);
    const upstreamCommand = dig(services.upstream, "command") as string[];
    expect(existsSync(hostFile(services.upstream, upstreamCommand[1] ?? "") ?? "")).toBe(true);
  });

  it("runs meshrasp read-only, with a tmpfs /tmp and no capabilities", () => {
    expect(dig(services.meshrasp, "read_only")).toBe(true);
    expect(String(dig(services.meshrasp, "tmpfs", 0))).toMatch(/^\/tmp\b/);
    expect(dig(services.meshrasp, "cap_drop")).toEqual(["ALL"]);
    expect(dig(services.envoy, "depends_on", "meshrasp", "condition")).toBe("service_healthy");
  });

  it("matches the clusters in envoy.yaml: service names and ports", () => {
    const envoy = readYaml(join(composeDir, "envoy.yaml"));
    const clusters = dig(envoy, "static_resources", "clusters") as unknown[];
    const address = (name: string) => {
      const cluster = clusters.find((c) => dig(c, "name") === name);
      const socket = dig(cluster, "load_assignment", "endpoints", 0, "lb_endpoints", 0, "endpoint", "address", "socket_address");
      return [dig(socket, "address"), dig(socket, "port_value")];
    };
    const grpc = String(dig(services.meshrasp, "environment", "MESHRASP_GRPC"));
    expect(address("meshrasp")).toEqual(["meshrasp", Number(grpc.slice(grpc.lastIndexOf(":") + 1))]);
    expect(address("upstream")).toEqual(["upstream", Number(dig(services.upstream, "environment", "PORT"))]);
  });
});

interface DemoUpstream {
  server: Server;
  account: unknown;
}

describe("the demo upstream", () => {
  let demo: DemoUpstream;
  let base: string;
  beforeAll(async () => {
    demo = (await import(pathToFileURL(repoPath("envoy/demo-upstream/server.mjs")).href)) as DemoUpstream;
    expect(demo.server.listening).toBe(false);
    await new Promise<void>((done) => demo.server.listen(0, "127.0.0.1", done));
    base = `http://127.0.0.1:${(demo.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((done) => demo.server.close(done));
  });

  it("echoes what it received, so an allowed request shows up as such", async () => {
    const response = await fetch(`${base}/hello?name=world`, { method: "POST", body: "payload" });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ upstream: "demo", method: "POST", path: "/hello", query: { name: "world" }, body: "payload" });
  });

  it("serves an account record with a card number and an AWS key id for the redaction demo", async () => {
    const response = await fetch(`${base}/account`);
    const text = await response.text();
    expect(response.headers.get("content-type")).toBe("application/json");
    const card = /\b(?:\d[ -]?){13,19}\b/.exec(text)?.[0].replace(/\D/g, "") ?? "";
    expect(card.length >= 13 && luhnValid(card)).toBe(true);
    expect(text).toMatch(/\bAKIA[0-9A-Z]{16}\b/);
  });

  it("answers its health check without a body", async () => {
    const response = await fetch(`${base}/healthz`);
    expect(await response.json()).toEqual({ status: "ok" });
  });
});
