/**
 * An open-loop ext_proc load generator for latency. Exchanges start on a fixed schedule (rate R,
 * whatever the server's speed) and each is driven as Envoy drives a BUFFERED request: the
 * request-headers message, wait for its answer, the body message, wait for its answer. Every
 * answer is decoded and checked.
 *
 * Two latencies per exchange:
 * - service: from writing the first message to reading the last answer — what Envoy waits;
 * - scheduled: from the exchange's slot in the schedule, so that a generator or server that falls
 *   behind shows it (no coordinated omission). The generator's own lateness is reported apart.
 *
 * The schedule runs on timers, not a busy loop: on a VM whose two vCPUs share a physical core, a
 * client spinning on one slows the server on the other. Timers are about 1 ms precise, so
 * exchanges leave in small groups each millisecond.
 *
 * HTTP/2 goes through node:http2 with the gRPC framing done here, not grpc-js: a grpc-js client
 * costs more CPU per stream than the server it measures.
 *
 * Usage: node open-loop-client.js HOST:PORT EXCHANGE_FILE RATE SECONDS [CONNECTIONS]
 * EXCHANGE_FILE holds the two gRPC-framed ProcessingRequest messages. Prints one JSON line.
 */
import { readFileSync } from "node:fs";
import { connect, type ClientHttp2Session } from "node:http2";
import { ProcessingResponse } from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { quantile } from "../support/stats.js";
import { splitFrames } from "./exchange.js";

const PATH = "/envoy.service.ext_proc.v3.ExternalProcessor/Process";
const WARMUP_S = 2;
const DRAIN_MS = 3000;

/** Reassembles gRPC messages from DATA chunks. */
class GrpcReader {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const messages: Buffer[] = [];
    while (this.pending.length >= 5) {
      const length = this.pending.readUInt32BE(1);
      if (this.pending.length < 5 + length) break;
      messages.push(this.pending.subarray(5, 5 + length));
      this.pending = this.pending.subarray(5 + length);
    }
    return messages;
  }
}

function summary(values: number[]): { p50: number; p90: number; p99: number; p999: number; max: number } {
  values.sort((a, b) => a - b);
  return { p50: quantile(values, 0.5), p90: quantile(values, 0.9), p99: quantile(values, 0.99), p999: quantile(values, 0.999), max: values[values.length - 1] ?? NaN };
}

async function openSessions(address: string, count: number): Promise<ClientHttp2Session[]> {
  const sessions: ClientHttp2Session[] = [];
  for (let i = 0; i < count; i++) {
    const session = connect(`http://${address}`);
    await new Promise<void>((done, fail) => {
      session.once("connect", () => done());
      session.once("error", fail);
    });
    sessions.push(session);
  }
  return sessions;
}

async function run(address: string, file: string, rate: number, seconds: number, connections: number): Promise<Record<string, unknown>> {
  const [headers, body] = splitFrames(readFileSync(file));
  if (!headers || !body) throw new Error(`${file}: expected two gRPC frames`);
  const sessions = await openSessions(address, connections);
  const cpuBefore = process.cpuUsage();
  const service: number[] = [];
  const scheduledLatency: number[] = [];
  const lags: number[] = [];
  let failures = 0;
  let finished = 0;
  const interval = 1000 / rate;
  const begin = performance.now();
  const measureFrom = begin + WARMUP_S * 1000;
  const end = measureFrom + seconds * 1000;
  let started = 0;

  const exchange = (scheduled: number, session: ClientHttp2Session): void => {
    const stream = session.request({ ":method": "POST", ":path": PATH, "content-type": "application/grpc", te: "trailers" });
    const reader = new GrpcReader();
    const sentAt = performance.now();
    let answers = 0;
    let failed = false;
    const fail = (): void => {
      if (failed) return;
      failed = true;
      failures++;
      stream.close();
    };
    stream.on("data", (chunk: Buffer) => {
      for (const message of reader.push(chunk)) {
        answers++;
        const expected = answers === 1 ? "requestHeaders" : "requestBody";
        if (answers > 2 || ProcessingResponse.decode(message).response?.$case !== expected) return fail();
        if (answers === 1) {
          stream.end(body);
          continue;
        }
        finished++;
        if (scheduled >= measureFrom) {
          const now = performance.now();
          service.push(now - sentAt);
          scheduledLatency.push(now - scheduled);
        }
      }
    });
    stream.on("trailers", (trailers) => {
      if (trailers["grpc-status"] !== "0") fail();
    });
    stream.on("error", fail);
    stream.write(headers);
  };

  await new Promise<void>((done) => {
    const tick = (): void => {
      const now = performance.now();
      for (let slot = begin + started * interval; slot <= now; slot = begin + started * interval) {
        if (slot >= end) return done();
        if (slot >= measureFrom) lags.push(now - slot);
        exchange(slot, sessions[started % sessions.length]!);
        started++;
      }
      setTimeout(tick, Math.max(0, begin + started * interval - performance.now() - 0.5));
    };
    tick();
  });
  const deadline = performance.now() + DRAIN_MS;
  while (finished + failures < started && performance.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  for (const session of sessions) session.close();
  const cpu = process.cpuUsage(cpuBefore);
  return {
    offered: rate,
    achieved: service.length / seconds,
    samples: service.length,
    // Failed, or not finished within DRAIN_MS of the last start.
    errors: started - finished,
    service: summary(service),
    scheduled: summary(scheduledLatency),
    startLag: summary(lags),
    /** This generator's own CPU per exchange, warm-up included (ms). */
    cpuMsPerExchange: (cpu.user + cpu.system) / 1000 / Math.max(1, started),
  };
}

const [address, file, rate, seconds, connections] = process.argv.slice(2);
if (!address || !file || !rate || !seconds) {
  process.stderr.write("usage: open-loop-client.js HOST:PORT EXCHANGE_FILE RATE SECONDS [CONNECTIONS]\n");
  process.exit(2);
}
process.stdout.write(`${JSON.stringify(await run(address, file, Number(rate), Number(seconds), Number(connections ?? 4)))}\n`);
