/**
 * `npm run bench:ext-proc`: meshrasp serve against a no-op ext_proc server on the same stack, in
 * one run, each pinned to core 0, loaded from core 1.
 *
 * Load: h2load (Debian's nghttp2-client) replays one Envoy-like exchange per stream, gRPC-framed:
 * request headers (BUFFERED protocol_config) and a 1 KiB JSON body. A grpc-js client would spend
 * more CPU per stream than the server and measure itself. h2load sends both messages at once where
 * Envoy waits for the headers answer; both servers get the same load, so the ratio is fair.
 * Latency: h2load's per-request log with both servers at the same offered load (half of
 * meshrasp's maximum); answers are checked first by a lock-step client, as Envoy drives a stream.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { credentials, Metadata } from "@grpc/grpc-js";
import { ProcessingMode_BodySendMode as BodyMode } from "../../protos/generated/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js";
import {
  ExternalProcessorClient,
  ProcessingRequest,
  type ProcessingResponse,
} from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";

const ROOT = resolve(import.meta.dirname, "../../..");
const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 4;
const STREAMS_PER_CONNECTION = 16;

function headersRequest(): ProcessingRequest {
  const pairs: [string, string][] = [
    [":method", "POST"], [":path", "/api/orders?source=web&page=2"], [":authority", "shop.example.test"], [":scheme", "https"],
    ["content-type", "application/json"], ["content-length", "1024"], ["user-agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0"],
    ["accept", "application/json"], ["x-request-id", "3f0c9a52-8d1b-4a57-9a55-b6c2a8f0e7d1"], ["x-forwarded-proto", "https"],
  ];
  return {
    request: { $case: "requestHeaders", value: { headers: { headers: pairs.map(([key, v]) => ({ key, value: "", rawValue: Buffer.from(v) })) }, attributes: {}, endOfStream: false } },
    attributes: {},
    observabilityMode: false,
    protocolConfig: { requestBodyMode: BodyMode.BUFFERED, responseBodyMode: BodyMode.NONE, sendBodyWithoutWaitingForHeaderResponse: false },
    metadataContext: { filterMetadata: {}, typedFilterMetadata: {} },
  };
}

/** A benign 1 KiB JSON order, the shape of ordinary API traffic. */
function jsonBody(): Buffer {
  const items = Array.from({ length: 8 }, (_, i) => ({ sku: `SKU-${1000 + i}`, name: `Garden chair model ${i}`, quantity: i + 1, price: 19.99 + i }));
  let text = JSON.stringify({ customer: { id: 48213, email: "ana@example.test", tier: "gold" }, items, note: "" });
  text = JSON.stringify({ ...JSON.parse(text), note: "x".repeat(Math.max(0, 1024 - text.length - 2)) });
  return Buffer.from(text.slice(0, 1024 + 20));
}

function bodyRequest(body: Buffer): ProcessingRequest {
  return { request: { $case: "requestBody", value: { body, endOfStream: true, endOfStreamWithoutMessage: false, grpcMessageCompressed: false } }, attributes: {}, observabilityMode: false };
}

function grpcFrame(message: ProcessingRequest): Buffer {
  const bytes = ProcessingRequest.encode(message).finish();
  const header = Buffer.alloc(5);
  header.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([header, bytes]);
}

interface Server {
  name: string;
  child: ChildProcess;
  address: string;
}

async function start(name: string, args: string[]): Promise<Server> {
  const child = spawn("taskset", ["-c", "0", process.execPath, ...args], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const record = JSON.parse(line) as { event?: string; grpc?: string };
    if (record.event === "listening" && record.grpc) {
      lines.removeAllListeners();
      child.stdout!.resume();
      return { name, child, address: record.grpc };
    }
  }
  throw new Error(`${name} exited before listening`);
}

interface H2loadResult {
  rps: number;
  succeeded: number;
  failed: number;
}

async function h2load(address: string, payload: string, seconds: number, rpsPerClient?: number): Promise<H2loadResult> {
  const args = ["-c", "1", "h2load", "-D", String(seconds), "-c", String(CONNECTIONS), "-m", String(STREAMS_PER_CONNECTION),
    "-H", "content-type: application/grpc", "-H", "te: trailers", "-d", payload];
  if (rpsPerClient !== undefined) args.push("--rps", String(rpsPerClient));
  args.push(`http://${address}/envoy.service.ext_proc.v3.ExternalProcessor/Process`);
  // Asynchronous, so that the latency sampler in this process keeps running meanwhile.
  const child = spawn("taskset", args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  await new Promise((done) => child.on("exit", done));
  const finished = /finished in [\d.]+s, ([\d.]+) req\/s/.exec(stdout);
  const requests = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed/.exec(stdout);
  if (!finished || !requests) throw new Error(`h2load output not understood:\n${stdout}\n${stderr}`);
  return { rps: Number(finished[1]), succeeded: Number(requests[1]), failed: Number(requests[2]) };
}

/** Envoy-like lock-step exchanges at a modest rate; returns per-exchange latencies in ms. */
async function sample(address: string, seconds: number, perSecond: number, body: Buffer): Promise<number[]> {
  const client = new ExternalProcessorClient(address, credentials.createInsecure());
  const latencies: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  const one = (): Promise<void> =>
    new Promise((done, fail) => {
      const started = performance.now();
      const stream = client.process(new Metadata());
      let answers = 0;
      stream.on("data", (answer: ProcessingResponse) => {
        answers += 1;
        const expected = answers === 1 ? "requestHeaders" : "requestBody";
        if (answer.response?.$case !== expected) fail(new Error(`expected ${expected}, got ${answer.response?.$case}`));
        if (answers === 1) stream.write(bodyRequest(body));
        else {
          latencies.push(performance.now() - started);
          stream.end();
          done();
        }
      });
      stream.on("error", fail);
      stream.write(headersRequest());
    });
  while (performance.now() < deadline) {
    const tick = performance.now();
    await one();
    const wait = 1000 / perSecond - (performance.now() - tick);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  client.close();
  return latencies;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function median(values: number[]): number {
  return percentile(values, 50);
}

/** Cores busy over a short window, from /proc/stat: other work on the machine skews results. */
async function busyCores(ms: number): Promise<number> {
  const read = (): number[] => (readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "").split(/\s+/).slice(1).map(Number);
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  const delta = b.map((v, i) => v - (a[i] ?? 0));
  const idle = (delta[3] ?? 0) + (delta[4] ?? 0);
  const total = delta.reduce((s, v) => s + v, 0);
  return total === 0 ? 0 : ((total - idle) / total) * 2;
}

/**
 * Latency at a fixed offered load, from h2load's per-request log: 32 connections with one stream
 * each, each at its own rate, so both servers see the same arrivals. h2load's rate limiting is
 * bursty, so the no-op server's figures at the same load are the floor the generator sets.
 */
async function latencyAt(address: string, payload: string, totalRps: number): Promise<{ p50: number; p99: number; n: number }> {
  const log = join(tmpdir(), `meshrasp-h2load-${process.pid}-${address.replace(/[^0-9]/g, "")}.log`);
  const clients = 32;
  const args = ["-c", "1", "h2load", "-D", String(DURATION_S), "-c", String(clients), "-m", "1", "--rps", String(Math.max(1, Math.round(totalRps / clients))),
    "-H", "content-type: application/grpc", "-H", "te: trailers", "-d", payload, `--log-file=${log}`,
    `http://${address}/envoy.service.ext_proc.v3.ExternalProcessor/Process`];
  const child = spawn("taskset", args, { stdio: "ignore" });
  await new Promise((done) => child.on("exit", done));
  const ms = readFileSync(log, "utf8").trim().split("\n").map((line) => Number(line.split("\t")[2]) / 1000).filter(Number.isFinite);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), n: ms.length };
}

async function main(): Promise<void> {
  if (spawnSync("h2load", ["--version"]).error) {
    process.stderr.write("bench:ext-proc needs h2load: apt-get install nghttp2-client\n");
    process.exit(2);
  }
  const foreign = await busyCores(2000);
  const dir = mkdtempSync(join(tmpdir(), "meshrasp-bench-"));
  const payload = join(dir, "exchange.bin");
  const body = jsonBody();
  writeFileSync(payload, Buffer.concat([grpcFrame(headersRequest()), grpcFrame(bodyRequest(body))]));

  const main = join(ROOT, "dist/ext-proc/src/cli/main.js");
  const noop = join(ROOT, "dist/bench/ext-proc/noop-server.js");
  const servers = [
    await start("meshrasp", [main, "serve", "--grpc", "127.0.0.1:0", "--admin", "127.0.0.1:0"]),
    await start("no-op", [noop, "127.0.0.1:0"]),
  ];
  try {
    // A deny would be cheaper than an allow and flatter the figures: make sure both allow.
    for (const server of servers) {
      const check = await sample(server.address, 0.2, 20, body);
      if (check.length === 0) throw new Error(`${server.name} answered nothing`);
    }
    const rps = new Map<string, number[]>(servers.map((s) => [s.name, []]));
    for (const server of servers) await h2load(server.address, payload, 2);
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const server of servers) {
        const result = await h2load(server.address, payload, DURATION_S);
        if (result.failed > 0) throw new Error(`${server.name}: ${result.failed} failed streams`);
        rps.get(server.name)!.push(result.rps);
      }
    }
    // Both servers at the same offered load: half of meshrasp's median maximum.
    const offered = median(rps.get("meshrasp")!) / 2;
    const latency = new Map<string, { p50: number; p99: number; n: number }>();
    for (const server of servers) latency.set(server.name, await latencyAt(server.address, payload, offered));
    const [meshrasp, baseline] = [median(rps.get("meshrasp")!), median(rps.get("no-op")!)];
    const rows = servers.map((s) => {
      const lat = latency.get(s.name)!;
      return `| ${s.name} | ${Math.round(median(rps.get(s.name)!))} | ${rps.get(s.name)!.map((v) => Math.round(v)).join(", ")} | ${lat.p50.toFixed(2)} | ${lat.p99.toFixed(2)} | ${lat.n} |`;
    });
    const report = [
      "# ext_proc throughput: meshrasp vs a no-op server on the same stack",
      "",
      `Command: \`npm run bench:ext-proc\` (servers on core 0, h2load and the latency sampler on core 1; ${CONNECTIONS}x${STREAMS_PER_CONNECTION} = ${CONNECTIONS * STREAMS_PER_CONNECTION} concurrent streams; ${ROUNDS} rounds of ${DURATION_S} s, interleaved; median).`,
      `Exchange: request headers (BUFFERED) + ${body.length}-byte JSON body, default policy. Other load on the machine before the run: ${foreign.toFixed(2)} cores.`,
      "",
      `| server | streams/s (median) | rounds | p50 ms at ${Math.round(offered)}/s | p99 ms at ${Math.round(offered)}/s | samples |`,
      "|---|---:|---|---:|---:|---:|",
      ...rows,
      "",
      `**meshrasp / no-op throughput: ${((meshrasp / baseline) * 100).toFixed(1)} %**`,
      "",
      "Latency: h2load's per-request log at the same offered load for both servers (half of meshrasp's median maximum), 32 connections with one stream each; the no-op row is the floor the generator itself sets.",
      "",
    ].join("\n");
    process.stdout.write(report);
    mkdirSync(join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(join(ROOT, "bench/results/ext-proc.md"), report);
  } finally {
    for (const server of servers) server.child.kill("SIGTERM");
  }
}

await main();
