/**
 * The lean floor for `npm run bench:ext-proc`: an ext_proc no-op on the least HTTP/2 that carries
 * the benchmark's calls, framed by hand on a plain TCP socket. It answers with the same answers and
 * codecs as the other no-ops, and writes everything a read made it answer in one write, trailers
 * included. What a lock-step exchange still costs it is at most the kernel's part (reads, writes,
 * loopback delivery, wake-ups) plus what Node spends per read and per young collection: a floor
 * for a server written in Node on this machine, whatever its HTTP/2 layer.
 *
 * A measuring instrument, not a server to deploy or to build on: it never decodes a header block
 * (so it takes every call to be ext_proc's Process, and keeps no HPACK state of the peer); it grants
 * the peer a connection window of 2^31-1 bytes and refills each stream's 65,535 once half is used,
 * instead of accounting for flow control; it never checks the peer's windows or header table size
 * for its own answers (safe only because they are a few dozen bytes each and the benchmark's
 * clients refill promptly); it ignores priorities, and closes the connection on anything it does
 * not expect (a client's trailers included). Its answers need no HPACK state either: indexed
 * `:status 200` and literals without indexing.
 * Usage: node lean-h2-floor-server.js HOST:PORT
 */
import { createServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { disablePretenuring } from "../../ext-proc/src/server/pretenuring.js";
import { GrpcMessageReader } from "./grpc-framing.js";
import { answerChunk, endStatus, GRPC_OK, NOOP_MAX_MESSAGE_BYTES } from "./noop-answer.js";

const PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");
/** SETTINGS_MAX_FRAME_SIZE's default, which this server never raises. */
const MAX_FRAME = 16_384;
const WINDOW_MAX = 0x7fff_ffff;
const DEFAULT_WINDOW = 65_535;

const enum Type {
  Data = 0,
  Headers = 1,
  RstStream = 3,
  Settings = 4,
  Ping = 6,
  GoAway = 7,
  WindowUpdate = 8,
}
const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;

function frame(type: Type, flags: number, stream: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const out = Buffer.allocUnsafe(9 + payload.length);
  out.writeUIntBE(payload.length, 0, 3);
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(stream, 5);
  out.set(payload, 9);
  return out;
}

/** An HPACK integer with an N-bit prefix (RFC 7541 §5.1), its first byte's high bits set to `high`. */
function hpackInteger(value: number, prefixBits: number, high: number): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [high | value];
  const bytes = [high | max];
  let rest = value - max;
  while (rest >= 128) {
    bytes.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

/** A header field as a literal without indexing, with a new name (RFC 7541 §6.2.2), no Huffman coding. */
function literal(name: string, value: string): Buffer {
  const n = Buffer.from(name, "latin1");
  const v = Buffer.from(value, "latin1");
  return Buffer.concat([Buffer.from([0, ...hpackInteger(n.length, 7, 0)]), n, Buffer.from(hpackInteger(v.length, 7, 0)), v]);
}

/** `:status 200` (static table index 8) and gRPC's content type. */
const RESPONSE_HEADERS = Buffer.concat([Buffer.from([0x88]), literal("content-type", "application/grpc")]);

function windowUpdate(stream: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment, 0);
  return frame(Type.WindowUpdate, 0, stream, payload);
}

interface Call {
  readonly reader: GrpcMessageReader;
  responded: boolean;
  /** DATA bytes received since its window was last refilled. */
  received: number;
}

/** One HTTP/2 connection: frames in, answers out, one write per read. */
function serveConnection(socket: Socket): void {
  socket.setNoDelay(true);
  const calls = new Map<number, Call>();
  let pending: Buffer = Buffer.alloc(0);
  let prefaceSeen = false;
  let received = 0;
  let out: Buffer[] = [];
  let closed = false;
  /** Sends what is queued, then closes: a frame or a preface this server does not expect. */
  const close = (): void => {
    closed = true;
    if (out.length > 0) socket.end(Buffer.concat(out));
    else socket.end();
    out = [];
  };
  /**
   * Ends a call with its status; the response headers first if no answer carried them. A call ended
   * before the client's half-close is reset too (NO_ERROR), so that the client stops sending on it.
   */
  const finish = (id: number, call: Call, status: string, message = "", clientEnded = true): void => {
    if (!call.responded) out.push(frame(Type.Headers, END_HEADERS, id, RESPONSE_HEADERS));
    const trailers = message === "" ? literal("grpc-status", status) : Buffer.concat([literal("grpc-status", status), literal("grpc-message", encodeURIComponent(message))]);
    out.push(frame(Type.Headers, END_HEADERS | END_STREAM, id, trailers));
    if (!clientEnded) out.push(frame(Type.RstStream, 0, id, Buffer.alloc(4)));
    calls.delete(id);
  };
  /** `flowBytes`: the DATA frame's whole payload, padding included, as flow control counts it. */
  const onData = (id: number, call: Call, data: Buffer, flowBytes: number, ended: boolean): void => {
    const { answers, failure } = answerChunk(call.reader, data);
    for (const framed of answers) {
      if (!call.responded) {
        call.responded = true;
        out.push(frame(Type.Headers, END_HEADERS, id, RESPONSE_HEADERS));
      }
      out.push(frame(Type.Data, 0, id, framed));
    }
    if (failure) {
      finish(id, call, failure.status, failure.message, ended);
      return;
    }
    if (ended) {
      const { status, message } = endStatus(call.reader);
      finish(id, call, status, message);
      return;
    }
    call.received += flowBytes;
    if (call.received > DEFAULT_WINDOW / 2) {
      out.push(windowUpdate(id, call.received));
      call.received = 0;
    }
  };
  /** Handles one frame; false when the connection must close. */
  const onFrame = (type: number, flags: number, id: number, payload: Buffer): boolean => {
    switch (type) {
      case Type.Headers:
        if ((flags & END_HEADERS) === 0) return false;
        if (id % 2 === 0 || calls.has(id)) return false;
        {
          const call: Call = { reader: new GrpcMessageReader(NOOP_MAX_MESSAGE_BYTES), responded: false, received: 0 };
          calls.set(id, call);
          if ((flags & END_STREAM) !== 0) finish(id, call, GRPC_OK);
        }
        return true;
      case Type.Data: {
        received += payload.length;
        if (received > WINDOW_MAX / 2) {
          out.push(windowUpdate(0, received));
          received = 0;
        }
        let data = payload;
        if ((flags & PADDED) !== 0) {
          if (payload.length < 1 || payload[0]! >= payload.length) return false;
          data = payload.subarray(1, payload.length - payload[0]!);
        }
        const call = calls.get(id);
        // A call this server has already ended: the rest of its data is dropped.
        if (call !== undefined) onData(id, call, data, payload.length, (flags & END_STREAM) !== 0);
        return true;
      }
      case Type.Settings:
        if ((flags & ACK) === 0) out.push(frame(Type.Settings, ACK, 0));
        return true;
      case Type.Ping:
        if ((flags & ACK) === 0) out.push(frame(Type.Ping, ACK, 0, Buffer.from(payload)));
        return true;
      case Type.RstStream:
        calls.delete(id);
        return true;
      case Type.GoAway:
        return false;
      default:
        // WINDOW_UPDATE, PRIORITY and unknown types: nothing to do.
        return true;
    }
  };
  socket.write(Buffer.concat([frame(Type.Settings, 0, 0), windowUpdate(0, WINDOW_MAX - DEFAULT_WINDOW)]));
  socket.on("data", (chunk: Buffer) => {
    if (closed) return;
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    if (!prefaceSeen) {
      if (pending.length < PREFACE.length) return;
      if (!pending.subarray(0, PREFACE.length).equals(PREFACE)) return close();
      pending = pending.subarray(PREFACE.length);
      prefaceSeen = true;
    }
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (length > MAX_FRAME) return close();
      if (pending.length < 9 + length) break;
      const payload = pending.subarray(9, 9 + length);
      const ok = onFrame(pending[3]!, pending[4]!, pending.readUInt32BE(5) & 0x7fff_ffff, payload);
      pending = pending.subarray(9 + length);
      if (!ok) return close();
    }
    if (out.length > 0) {
      socket.write(out.length === 1 ? out[0]! : Buffer.concat(out));
      out = [];
    }
  });
  socket.on("error", () => undefined);
}

disablePretenuring();
const [host = "127.0.0.1", port = "50063"] = (process.argv[2] ?? "").split(":");
const server = createServer(serveConnection);
server.listen(Number(port), host, () => {
  const { address, port: bound } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ event: "listening", grpc: `${address}:${bound}` })}\n`);
});
// Open connections would hold server.close() back, and there is nothing to finish: exit at once.
process.on("SIGTERM", () => process.exit(0));
