import { connect, type ClientHttp2Session } from "node:http2";
import { join } from "node:path";
import { credentials, Metadata, status as GrpcStatus } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExternalProcessorClient, type ProcessingResponse } from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { bodyRequest, exchangeFrames, grpcFrame, headersRequest, jsonBody } from "../../bench/ext-proc/exchange.js";
import { ROOT, startServeProcess, stopServeProcess, type ServeProcess } from "../../bench/support/serve-process.js";

const METHOD = "/envoy.service.ext_proc.v3.ExternalProcessor/Process";

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

  it("serves many calls on one connection, more bytes than a default flow-control window, and answers pings", async () => {
    const session = connect(`http://${server.grpc}`);
    try {
      // 100 exchanges of ~1.4 KB each: over the 65,535 bytes the connection starts with.
      const results = await Promise.all(Array.from({ length: 100 }, () => rawCall(session, METHOD, exchangeFrames(jsonBody()))));
      expect(results.every((r) => r.trailers["grpc-status"] === "0" && r.data.length > 10)).toBe(true);
      const rtt = await new Promise<number>((done, fail) => session.ping((error, ms) => (error ? fail(error) : done(ms))));
      expect(rtt).toBeGreaterThanOrEqual(0);
    } finally {
      session.close();
    }
  });

  it("closes a connection that does not start with HTTP/2's preface", async () => {
    const { Socket } = await import("node:net");
    const [host = "", port = ""] = server.grpc.split(":");
    const closed = await new Promise<boolean>((done) => {
      const socket = new Socket();
      socket.on("close", () => done(true));
      socket.on("error", () => undefined);
      socket.connect(Number(port), host, () => socket.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
      socket.resume();
      setTimeout(() => done(false), 2000);
    });
    expect(closed).toBe(true);
  });
});
