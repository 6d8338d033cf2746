import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startServeProcess, stopServeProcess } from "../../bench/support/serve-process.js";

/** Processes whose command line contains `marker`, from /proc. */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(marker)) found.push(Number(entry));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return found;
}

describe("startServeProcess", () => {
  it("gives the addresses a server logs in its listening line", async () => {
    const script = `console.log(JSON.stringify({ event: "listening", grpc: "127.0.0.1:1", admin: "127.0.0.1:2" })); setInterval(() => {}, 1000);`;
    const server = await startServeProcess(["-e", script]);
    try {
      expect([server.grpc, server.admin]).toEqual(["127.0.0.1:1", "127.0.0.1:2"]);
    } finally {
      server.child.kill("SIGTERM");
    }
  });

  it("stops a server, by SIGKILL when it ignores SIGTERM, and returns once it has exited", async () => {
    const script = `process.on("SIGTERM", () => {}); console.log(JSON.stringify({ event: "listening", grpc: "127.0.0.1:1" })); setInterval(() => {}, 1000);`;
    const server = await startServeProcess(["-e", script]);
    await stopServeProcess(server);
    expect(server.child.signalCode).toBe("SIGKILL");
  }, 15_000);

  it("stops a server whose output it cannot read, instead of leaving it running unseen", async () => {
    const marker = `unreadable-server-${process.pid}-${Date.now()}`;
    const script = `/* ${marker} */ console.log("not a JSON line"); setInterval(() => {}, 1000);`;
    await expect(startServeProcess(["-e", script])).rejects.toThrow(SyntaxError);
    const deadline = Date.now() + 2000;
    while (processesWith(marker).length > 0 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
    expect(processesWith(marker)).toEqual([]);
  });

  it("stops a server whose first line is JSON but no object, and rejects a command that cannot start", async () => {
    const marker = `null-line-server-${process.pid}-${Date.now()}`;
    await expect(startServeProcess(["-e", `/* ${marker} */ console.log("null"); setInterval(() => {}, 1000);`])).rejects.toThrow(/not a JSON object/);
    const deadline = Date.now() + 2000;
    while (processesWith(marker).length > 0 && Date.now() < deadline) await new Promise((done) => setTimeout(done, 50));
    expect(processesWith(marker)).toEqual([]);
    // Pinned to a core, the command is taskset, looked up on a PATH where it is not.
    await expect(startServeProcess(["-e", "0"], 0, { env: { PATH: "/nonexistent" } })).rejects.toThrow(/ENOENT/);
  });

  it("keeps V8's trace lines, from before and after the listening line, in the file it is given", async () => {
    const dir = mkdtempSync(join(tmpdir(), "meshrasp-serve-trace-"));
    const file = join(dir, "v8.log");
    const script = [
      `console.log("[12:0x5f1c2a0]       5 ms: pause=1.2 gc=s");`,
      `console.log(JSON.stringify({ event: "listening", grpc: "127.0.0.1:1" }));`,
      `console.log("not JSON, not V8: ignored once listening");`,
      `console.log("[12:0x5f1c2a0]      90 ms: pause=30.5 gc=mc");`,
      "setInterval(() => {}, 1000);",
    ].join(" ");
    const server = await startServeProcess(["-e", script], undefined, { v8TraceFile: file });
    try {
      const deadline = Date.now() + 2000;
      while (!(existsSync(file) && readFileSync(file, "utf8").includes("gc=mc")) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 20));
      expect(readFileSync(file, "utf8")).toBe("[12:0x5f1c2a0]       5 ms: pause=1.2 gc=s\n[12:0x5f1c2a0]      90 ms: pause=30.5 gc=mc\n");
    } finally {
      await stopServeProcess(server);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
