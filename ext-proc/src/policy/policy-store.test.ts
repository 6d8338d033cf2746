import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ActivePolicy } from "./active-policy.js";
import { defaultPolicyPath } from "./policy-document.js";
import type { PolicyError } from "./policy-error.js";
import { PolicyStore } from "./policy-store.js";

/** Called after each synchronous file read, to stand for a writer racing the store. */
const fileReads = vi.hoisted(() => ({ afterRead: undefined as ((path: string) => void) | undefined }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  const readFileSync = ((...args: Parameters<typeof fs.readFileSync>) => {
    const content = fs.readFileSync(...args);
    fileReads.afterRead?.(String(args[0]));
    return content;
  }) as typeof fs.readFileSync;
  return { ...fs, readFileSync, default: { ...fs, readFileSync } };
});

const policy = (version: string, extra = ""): string =>
  `apiVersion: meshrasp.io/v1alpha1\nkind: RaspPolicy\nmetadata:\n  name: shop\n  version: "${version}"\nspec:\n  rulePacks: [sqli]\n${extra}`;

interface Events {
  loaded: ActivePolicy[];
  rejected: PolicyError[];
}

const stores: PolicyStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  fileReads.afterRead = undefined;
});

function open(path: string): { store: PolicyStore; events: Events } {
  const events: Events = { loaded: [], rejected: [] };
  const store = new PolicyStore(path, { loaded: (p) => events.loaded.push(p), rejected: (e) => events.rejected.push(e) });
  stores.push(store);
  return { store, events };
}

/** A directory laid out the way the kubelet mounts a ConfigMap: policy.yaml → ..data/policy.yaml → ..<ts>/. */
function configMapVolume(content: string): { dir: string; update: (next: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), "meshrasp-cm-"));
  let generation = 0;
  const write = (text: string): void => {
    generation += 1;
    const version = `..2026_11_21_${generation}`;
    mkdirSync(join(dir, version));
    writeFileSync(join(dir, version, "policy.yaml"), text);
    symlinkSync(version, join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data")); // the atomic swap
  };
  write(content);
  symlinkSync("..data/policy.yaml", join(dir, "policy.yaml"));
  return { dir, update: write };
}

async function until(condition: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the policy store");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("PolicyStore", () => {
  it("follows a ConfigMap volume's atomic ..data swap", async () => {
    const volume = configMapVolume(policy("1"));
    const { store, events } = open(join(volume.dir, "policy.yaml"));
    store.watch(200);
    expect(store.current().version).toBe("1");
    volume.update(policy("2"));
    await until(() => store.current().version === "2");
    expect(events.loaded).toHaveLength(1);
  });

  it("follows a plain file edited in place", async () => {
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-file-"));
    const file = join(dir, "policy.yaml");
    writeFileSync(file, policy("1"));
    const { store } = open(file);
    store.watch(200);
    writeFileSync(file, policy("2"));
    await until(() => store.current().version === "2");
  });

  it("keeps streams on the policy object they started with", () => {
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-file-"));
    const file = join(dir, "policy.yaml");
    writeFileSync(file, policy("1"));
    const { store } = open(file);
    const before = store.current();
    writeFileSync(file, policy("2"));
    expect(store.reload()).toBe("loaded");
    expect(before.version).toBe("1");
    expect(store.current().version).toBe("2");
    expect(store.current().hash).not.toBe(before.hash);
  });

  it.each([
    ["an unknown field", (file: string) => writeFileSync(file, policy("2", "  unknownField: 1\n")), /unknown field/],
    ["a wrong type", (file: string) => writeFileSync(file, policy("2", "  paranoiaLevel: high\n")), /must be integer/],
    ["an invalid pattern", (file: string) => writeFileSync(file, policy("2", "  rules:\n    - id: bad\n      message: bad\n      category: sqli\n      targets: [args]\n      regex: '(?=x)'\n")), /bad/],
    ["text that is not YAML", (file: string) => writeFileSync(file, "spec: [\n"), /not valid YAML/],
    ["an empty file", (file: string) => writeFileSync(file, ""), /empty/],
    ["a directory in its place", (file: string) => {
      unlinkSync(file);
      mkdirSync(file);
    }, /directory/],
    ["the file removed", (file: string) => unlinkSync(file), /cannot read/],
    ["a symlink loop", (file: string) => {
      unlinkSync(file);
      symlinkSync(file, file);
    }, /cannot read/],
  ] as const)("keeps the running policy when the file gets %s", (_name, breakIt, message) => {
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-bad-"));
    const file = join(dir, "policy.yaml");
    writeFileSync(file, policy("1"));
    const { store, events } = open(file);
    const good = store.current();
    breakIt(file);
    expect(store.reload()).toBe("rejected");
    expect(store.current()).toBe(good);
    expect(events.rejected).toHaveLength(1);
    expect(events.rejected[0]?.message).toMatch(message);
    expect(store.rejected()?.issues.length).toBeGreaterThan(0);
    // The same bad content is not reported again on every poll.
    expect(store.reload()).toBe("unchanged");
    expect(events.rejected).toHaveLength(1);
    // Fixing the file loads it and clears the rejection.
    rmSync(file, { recursive: true, force: true });
    writeFileSync(file, policy("3"));
    expect(store.reload()).toBe("loaded");
    expect(store.rejected()).toBeUndefined();
  });

  it("reports a different read failure of the policy file, not the same one twice", () => {
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-unreadable-"));
    const file = join(dir, "policy.yaml");
    writeFileSync(file, policy("1"));
    const { store, events } = open(file);
    unlinkSync(file);
    expect(store.reload()).toBe("rejected");
    expect(store.reload()).toBe("unchanged");
    // Another failure: the path is now a directory.
    mkdirSync(file);
    expect(store.reload()).toBe("rejected");
    expect(events.rejected.map((e) => e.message)).toEqual([expect.stringMatching(/ENOENT/), expect.stringMatching(/EISDIR|directory/)]);
  });

  it("compiles the very bytes it hashed, reading the file once, while a writer changes it", () => {
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-race-"));
    const file = join(dir, "policy.yaml");
    writeFileSync(file, policy("1"));
    const { store, events } = open(file);
    const bad = policy("3", "  mode: loud\n");
    writeFileSync(file, policy("2"));
    let reads = 0;
    fileReads.afterRead = (path) => {
      if (path !== file) return;
      reads += 1;
      writeFileSync(file, bad);
    };
    expect(store.reload()).toBe("loaded");
    expect(store.current().version).toBe("2");
    expect(reads).toBe(1);
    // The file now holds the bad edit: rejected under the hash of exactly those bytes.
    expect(store.reload()).toBe("rejected");
    expect(reads).toBe(2);
    expect(events.rejected[0]?.message).toMatch(/spec\.mode/);
    expect(store.rejected()?.fileHash).toBe(createHash("sha256").update(bad).digest("hex"));
    expect(store.current().version).toBe("2");
  });

  it("refuses to start with an invalid policy", () => {
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-bad-"));
    const file = join(dir, "policy.yaml");
    writeFileSync(file, policy("1", "  mode: loud\n"));
    expect(() => open(file)).toThrow(/spec\.mode/);
  });

  it("reloads the default policy (compile and swap) in under 300 ms", () => {
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-time-"));
    const file = join(dir, "policy.yaml");
    const defaults = readFileSync(defaultPolicyPath(), "utf8");
    writeFileSync(file, defaults);
    const { store } = open(file);
    const timings: number[] = [];
    for (let version = 2; version <= 6; version += 1) {
      // A new version and a new inbound threshold: a real change, compiled anew.
      writeFileSync(file, defaults.replace('version: "1"', `version: "${version}"`).replace("inbound: 5", `inbound: ${version + 4}`));
      const started = performance.now();
      expect(store.reload()).toBe("loaded");
      timings.push(performance.now() - started);
      expect(store.current().version).toBe(String(version));
    }
    const median = [...timings].sort((a, b) => a - b)[2]!;
    expect(median).toBeLessThan(300);
  });

  it("tells the active policy's compile time, from start-up on; a reload's is the one its listener was given", () => {
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-time-"));
    const file = join(dir, "policy.yaml");
    writeFileSync(file, policy("1"));
    const heard: number[] = [];
    const store = new PolicyStore(file, { loaded: (_policy, compileMs) => heard.push(compileMs), rejected: () => undefined });
    stores.push(store);
    expect(store.compileMs()).toBeGreaterThan(0);
    writeFileSync(file, policy("2"));
    expect(store.reload()).toBe("loaded");
    expect(heard).toEqual([store.compileMs()]);
    // A rejected policy never became active: the figure stays the active policy's.
    writeFileSync(file, policy("3", "  mode: loud\n"));
    expect(store.reload()).toBe("rejected");
    expect(store.compileMs()).toBe(heard[0]);
  });
});
