import { connect, constants, type ClientHttp2Session, type SecureClientSessionOptions } from "node:http2";
import { Socket } from "node:net";
import { join } from "node:path";
import { credentials, Metadata, status as GrpcStatus } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExternalProcessorClient, type ProcessingResponse } from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { bodyRequest, exchangeFrames, grpcFrame, headersRequest, jsonBody } from "../../bench/ext-proc/exchange.js";
import { ROOT, startServeProcess, stopServeProcess, type ServeProcess } from "../../bench/support/serve-process.js";

const METHOD = "/envoy.service.ext_proc.v3.ExternalProcessor/Process";
/** The key of ProcessingResponse's request_headers (field 1) and request_body (field 3), length-delimited. */
const HEADERS_ANSWER = (1 << 3) | 2;
const BODY_ANSWER = (3 << 3) | 2;

/** The first byte of each gRPC-framed answer in a response's data: which answer each is. */
function answerKeys(data: Buffer): number[] {
  const keys: number[] = [];
  for (let at = 0; at + 5 <= data.length; at += 5 + data.readUInt32BE(at + 1)) keys.push(data[at + 5]!);
  return keys;
}

/**
 * One call over a raw HTTP/2 stream: what the server sends back, trailers included. Pieces of the
 * body are written 20 ms apart, so each goes out in a DATA frame of its own.
 */
function rawCall(session: ClientHttp2Session, path: string, ...pieces: Buffer[]): Promise<{ data: Buffer; trailers: Record<string, unknown> }> {
  return new Promise((done, fail) => {
    const stream = session.request({ ":method": "POST", ":path": path, "content-type": "application/grpc", te: "trailers" });
    const chunks: Buffer[] = [];
    let trailers: Record<string, unknown> = {};
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("trailers", (t) => (trailers = t));
    stream.on("error", fail);
    stream.on("close", () => done({ data: Buffer.concat(chunks), trailers }));
    pieces.forEach((piece, i) => setTimeout(() => (i === pieces.length - 1 ? stream.end(piece) : stream.write(piece)), i * 20));
  });
}

// The servers run from dist/, as the benchmark starts them: run after `npm run build`.
describe.each([
  { name: "node:http2 floor", script: "http2-floor-server.js", readsHeaders: true },
  // It never decodes a header block, so it cannot tell one method from another.
  { name: "lean floor", script: "lean-h2-floor-server.js", readsHeaders: false },
])("the benchmark's $name server", ({ script, readsHeaders }) => {
  let server: ServeProcess;
  let session: ClientHttp2Session;
  beforeAll(async () => {
    server = await startServeProcess([join(ROOT, "dist/bench/ext-proc", script), "127.0.0.1:0"]);
    session = connect(`http://${server.grpc}`);
  });
  afterAll(async () => {
    session?.close();
    if (server) await stopServeProcess(server);
  });

  it("answers an Envoy-like exchange with continues, as grpc-js's client reads them, and ends it OK", async () => {
    const client = new ExternalProcessorClient(server.grpc, credentials.createInsecure());
    try {
      const got = await new Promise<{ answers: string[]; code: number }>((done, fail) => {
        const answers: string[] = [];
        const call = client.process(new Metadata());
        call.on("data", (answer: ProcessingResponse) => {
          answers.push(answer.response?.$case ?? "none");
          if (answers.length === 1) call.write(bodyRequest(jsonBody()));
          else call.end();
        });
        call.on("status", (s: { code: number }) => done({ answers, code: s.code }));
        call.on("error", (error: { code?: number }) => (error.code === undefined ? fail(error) : undefined));
        call.write(headersRequest());
      });
      expect(got).toEqual({ answers: ["requestHeaders", "requestBody"], code: GrpcStatus.OK });
    } finally {
      client.close();
    }
  });

  it("answers both messages of an exchange sent at once, as h2load replays it", async () => {
    const { data, trailers } = await rawCall(session, METHOD, exchangeFrames(jsonBody()));
    // Two framed answers: the key of ProcessingResponse's request_headers (1) and request_body (3) fields.
    expect(data[0]).toBe(0);
    expect(data[5]).toBe((1 << 3) | 2);
    const second = 5 + data.readUInt32BE(1);
    expect(data[second + 5]).toBe((3 << 3) | 2);
    expect(data.length).toBe(second + 5 + data.readUInt32BE(second + 1));
    expect(trailers["grpc-status"]).toBe("0");
  });

  it("joins a message that arrives in pieces, its prefix cut too", async () => {
    const frame = grpcFrame(headersRequest());
    // Three DATA frames: 3 bytes of the prefix, 10 more, the rest.
    const { data, trailers } = await rawCall(session, METHOD, frame.subarray(0, 3), frame.subarray(3, 13), frame.subarray(13));
    expect(data[5]).toBe((1 << 3) | 2);
    expect(data.length).toBe(5 + data.readUInt32BE(1));
    expect(trailers["grpc-status"]).toBe("0");
  });

  it("ends a call cut inside a message, compressed or undecodable INTERNAL, an oversized one RESOURCE_EXHAUSTED (and one to another method UNIMPLEMENTED if it reads headers)", async () => {
    const frame = grpcFrame(headersRequest());
    const oversized = Buffer.from([0, 0xff, 0xff, 0xff, 0xff]);
    const compressed = Buffer.from([1, 0, 0, 0, 0]);
    // Field 1 with wire type 7, which protobuf does not have.
    const undecodable = Buffer.from([0, 0, 0, 0, 1, (1 << 3) | 7]);
    const results = await Promise.all([
      ...(readsHeaders ? [rawCall(session, "/other.Service/Method", frame)] : []),
      rawCall(session, METHOD, frame.subarray(0, frame.length - 1)),
      rawCall(session, METHOD, compressed),
      rawCall(session, METHOD, undecodable),
      rawCall(session, METHOD, oversized),
    ]);
    expect(results.map((r) => [r.trailers["grpc-status"], decodeURIComponent(String(r.trailers["grpc-message"] ?? ""))])).toEqual([
      ...(readsHeaders ? [["12", "unknown method /other.Service/Method"]] : []),
      ["13", "the call ended inside a message"],
      ["13", "compressed messages are not supported"],
      ["13", expect.stringMatching(/^undecodable message: /)],
      ["8", "message of 4294967295 bytes"],
    ]);
  });
});

describe("the lean floor server's HTTP/2", () => {
  let server: ServeProcess;
  beforeAll(async () => {
    server = await startServeProcess([join(ROOT, "dist/bench/ext-proc/lean-h2-floor-server.js"), "127.0.0.1:0"]);
  });
  afterAll(async () => {
    if (server) await stopServeProcess(server);
  });

  /** One exchange on a fresh connection: its trailers' status, or why it failed. */
  const oneExchange = async (options: SecureClientSessionOptions = {}, body = jsonBody()): Promise<unknown> => {
    const session = connect(`http://${server.grpc}`, options);
    try {
      const { data, trailers } = await rawCall(session, METHOD, exchangeFrames(body));
      return [trailers["grpc-status"], answerKeys(data)];
    } finally {
      session.close();
    }
  };

  it("serves many calls on one connection, more bytes than a connection's first flow-control window, and answers a ping", async () => {
    const session = connect(`http://${server.grpc}`);
    try {
      // 100 exchanges of ~1.4 KB each: over the 65,535 bytes a connection starts with.
      const results = await Promise.all(Array.from({ length: 100 }, () => rawCall(session, METHOD, exchangeFrames(jsonBody()))));
      expect(results.map((r) => [r.trailers["grpc-status"], answerKeys(r.data)])).toEqual(Array(100).fill(["0", [HEADERS_ANSWER, BODY_ANSWER]]));
      // Without the ping's ACK the callback never comes, and the test times out.
      await new Promise<void>((done, fail) => session.ping((error) => (error ? fail(error) : done())));
    } finally {
      session.close();
    }
  });

  it("refills a stream's window: a 200 KB body on one stream, and again in padded frames", async () => {
    const big = Buffer.alloc(200_000, "a");
    expect(await oneExchange({}, big)).toEqual(["0", [HEADERS_ANSWER, BODY_ANSWER]]);
    expect(await oneExchange({ paddingStrategy: constants.PADDING_STRATEGY_MAX }, big)).toEqual(["0", [HEADERS_ANSWER, BODY_ANSWER]]);
  });

  it("resets a call it ends before the client has (NO_ERROR, after the trailers), so that the client stops sending on it", async () => {
    // Raw frames: node:http2's client closes such a stream itself, and would hide a missing reset.
    const frame = (type: number, flags: number, stream: number, payload: Buffer): Buffer => {
      const head = Buffer.alloc(9);
      head.writeUIntBE(payload.length, 0, 3);
      head[3] = type;
      head[4] = flags;
      head.writeUInt32BE(stream, 5);
      return Buffer.concat([head, payload]);
    };
    const [host = "", port = ""] = server.grpc.split(":");
    const socket = new Socket();
    try {
      const frames = await new Promise<number[][]>((done) => {
        let received = Buffer.alloc(0);
        const seen: number[][] = [];
        socket.on("data", (chunk: Buffer) => {
          received = Buffer.concat([received, chunk]);
          while (received.length >= 9 && received.length >= 9 + received.readUIntBE(0, 3)) {
            const [type, flags, stream] = [received[3]!, received[4]!, received.readUInt32BE(5)];
            received = received.subarray(9 + received.readUIntBE(0, 3));
            // SETTINGS, WINDOW_UPDATE and the like are the connection's: only stream 1's frames count.
            if (stream === 1) seen.push([type, flags]);
            if (stream === 1 && type === 3) done(seen);
          }
        });
        socket.on("error", () => undefined);
        setTimeout(() => done(seen), 2000);
        socket.connect(Number(port), host, () =>
          socket.write(
            Buffer.concat([
              Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"),
              frame(4, 0, 0, Buffer.alloc(0)),
              // HEADERS (END_HEADERS): indexed ":method: POST"; the server decodes no header block.
              frame(1, 0x4, 1, Buffer.from([0x83])),
              // DATA without END_STREAM: a message prefix over the server's limit.
              frame(0, 0, 1, Buffer.from([0, 0xff, 0xff, 0xff, 0xff])),
            ]),
          ),
        );
      });
      // Response headers, trailers (END_STREAM | END_HEADERS), then RST_STREAM.
      expect(frames).toEqual([[1, 0x4], [1, 0x5], [3, 0]]);
    } finally {
      socket.destroy();
    }
  });

  it("closes a connection that does not start with HTTP/2's preface, and goes on serving others", async () => {
    const [host = "", port = ""] = server.grpc.split(":");
    const socket = new Socket();
    try {
      const closed = await new Promise<boolean>((done) => {
        socket.on("close", () => done(true));
        socket.on("error", () => undefined);
        socket.connect(Number(port), host, () => socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        socket.resume();
        setTimeout(() => done(false), 2000);
      });
      expect(closed).toBe(true);
    } finally {
      socket.destroy();
    }
    expect(await oneExchange()).toEqual(["0", [HEADERS_ANSWER, BODY_ANSWER]]);
  });
});
