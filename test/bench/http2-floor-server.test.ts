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

// The server runs from dist/, as the benchmark starts it: run after `npm run build`.
describe("the benchmark's node:http2 floor server", () => {
  let server: ServeProcess;
  let session: ClientHttp2Session;
  beforeAll(async () => {
    server = await startServeProcess([join(ROOT, "dist/bench/ext-proc/http2-floor-server.js"), "127.0.0.1:0"]);
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

  it("ends a call to another method UNIMPLEMENTED, one cut inside a message, compressed or undecodable INTERNAL, an oversized one RESOURCE_EXHAUSTED", async () => {
    const frame = grpcFrame(headersRequest());
    const oversized = Buffer.from([0, 0xff, 0xff, 0xff, 0xff]);
    const compressed = Buffer.from([1, 0, 0, 0, 0]);
    // Field 1 with wire type 7, which protobuf does not have.
    const undecodable = Buffer.from([0, 0, 0, 0, 1, (1 << 3) | 7]);
    const results = await Promise.all([
      rawCall(session, "/other.Service/Method", frame),
      rawCall(session, METHOD, frame.subarray(0, frame.length - 1)),
      rawCall(session, METHOD, compressed),
      rawCall(session, METHOD, undecodable),
      rawCall(session, METHOD, oversized),
    ]);
    expect(results.map((r) => [r.trailers["grpc-status"], decodeURIComponent(String(r.trailers["grpc-message"] ?? ""))])).toEqual([
      ["12", "unknown method /other.Service/Method"],
      ["13", "the call ended inside a message"],
      ["13", "compressed messages are not supported"],
      ["13", expect.stringMatching(/^undecodable message: /)],
      ["8", "message of 4294967295 bytes"],
    ]);
  });
});
