/**
 * A server process for the benchmarks: spawned (optionally pinned with taskset), ready once it
 * logs its `listening` line, which gives its addresses. Used for `meshrasp serve` and the no-op
 * server alike, which log the same line.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { TICKS_PER_SECOND } from "./machine-load.js";

/** The repository: the nearest directory above with a package.json (this file runs from dist/ or from source in tests). */
export const ROOT = ((dir: string): string => {
  while (!existsSync(join(dir, "package.json")) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
})(import.meta.dirname);
export const MESHRASP_MAIN = join(ROOT, "dist/ext-proc/src/cli/main.js");

export interface ServeProcess {
  readonly child: ChildProcess;
  /** HOST:PORT of the gRPC listener. */
  readonly grpc: string;
  /** HOST:PORT of the admin listener; the no-op server has none. */
  readonly admin: string | undefined;
}

/** Node options and environment variables for a server process, on top of the benchmark's own. */
export interface ServeProcessOptions {
  readonly nodeArgs?: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Where the lines V8's tracing flags (`--trace-gc-nvp`) print to standard output go, before and
   * after the listening line; without it such a line is unreadable output like any other.
   */
  readonly v8TraceFile?: string;
}

/** `[PID:0xISOLATE]` opens every line V8's --trace-gc family prints. */
const V8_TRACE_LINE = /^\[\d+:0x[0-9a-f]+\]/;

/** Starts `node ARGS...`, on `core` when given, and waits for it to listen. */
export async function startServeProcess(args: readonly string[], core?: number, options: ServeProcessOptions = {}): Promise<ServeProcess> {
  const node = [process.execPath, ...(options.nodeArgs ?? []), ...args];
  const command = core === undefined ? node : ["taskset", "-c", String(core), ...node];
  const child = spawn(command[0]!, command.slice(1), { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...options.env } });
  const lines = createInterface({ input: child.stdout! });
  const { v8TraceFile } = options;
  return await new Promise<ServeProcess>((resolve, reject) => {
    let ready = false;
    const giveUp = (error: Error): void => {
      if (ready) return;
      ready = true;
      // The caller never gets the child, so it must not outlive this call.
      child.kill("SIGTERM");
      reject(error);
    };
    // Could not be started at all (taskset missing, say): no output will come.
    child.once("error", giveUp);
    // Read to the end, so that a server never blocks on a full pipe; after the listening line,
    // only V8's trace lines are kept.
    lines.on("line", (line) => {
      if (v8TraceFile !== undefined && V8_TRACE_LINE.test(line)) {
        appendFileSync(v8TraceFile, `${line}\n`);
        return;
      }
      if (ready) return;
      let record: unknown;
      try {
        record = JSON.parse(line);
      } catch (error) {
        giveUp(error as Error);
        return;
      }
      if (typeof record !== "object" || record === null) {
        giveUp(new SyntaxError(`not a JSON object: ${line}`));
        return;
      }
      const { event, grpc, admin } = record as { event?: unknown; grpc?: unknown; admin?: unknown };
      if (event === "listening" && typeof grpc === "string" && grpc !== "") {
        ready = true;
        resolve({ child, grpc, admin: typeof admin === "string" ? admin : undefined });
      }
    });
    lines.on("close", () => giveUp(new Error(`${args.join(" ")} exited before listening`)));
  });
}

/**
 * Stops a server and waits for it to exit, so that nothing it still writes (logs in a temporary
 * directory) outlives the caller; SIGKILL if it has not exited 5 s after SIGTERM (the no-op server
 * waits for open streams first).
 */
export async function stopServeProcess(server: ServeProcess): Promise<void> {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  // "close", not "exit": once the output is read to its end, no trace line can arrive after the caller moves on.
  const exited = new Promise((done) => child.once("close", done));
  child.kill("SIGTERM");
  const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(killer);
}

/** Resident memory of a process, from /proc, in KiB. */
export function rssKiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/** CPU time a process has used so far (user + system), in seconds, from /proc (10 ms ticks). */
export function cpuSeconds(pid: number): number {
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th overall.
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}
