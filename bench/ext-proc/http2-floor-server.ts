/**
 * The floor for `npm run bench:ext-proc`: an ext_proc server written directly on Node's
 * `node:http2`, without grpc-js, that answers every message with an empty continue. It decodes and
 * encodes with the same generated codecs as meshrasp and the no-op server, and, like them, runs
 * with V8's allocation-site pretenuring off. What it still costs per exchange is, near enough,
 * what Node's HTTP/2 layer (nghttp2, its bindings, the event loop) costs: a floor for the CPU per
 * exchange of any server built on node:http2. Its tail latency is no such floor: that depends on
 * how many full garbage collections fall within a measured window.
 *
 * gRPC over HTTP/2, as far as this one bidirectional method needs it: 5-byte framed messages,
 * response headers with the first answer, `grpc-status` in the trailers. Not a server to deploy:
 * no deadlines, compression, write backpressure or limits beyond a cap on a message's length, and a
 * call it fails stays open until the client half-closes.
 * Usage: node http2-floor-server.js HOST:PORT
 */
import { constants, createServer, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo } from "node:net";
import { disablePretenuring } from "../../ext-proc/src/server/pretenuring.js";
import { GrpcMessageReader } from "./grpc-framing.js";
import { answerChunk, endStatus, GRPC_UNIMPLEMENTED, NOOP_MAX_MESSAGE_BYTES } from "./noop-answer.js";

const METHOD_PATH = "/envoy.service.ext_proc.v3.ExternalProcessor/Process";

/** One call: answers as messages complete, ends with a status once the client half-closes. */
function serve(stream: ServerHttp2Stream, path: string | undefined): void {
  /** The response headers, with the first answer or with the status, whichever comes first. */
  const respondOnce = (): void => {
    if (!stream.headersSent) stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
  };
  let finished = false;
  /** Sends the status once: the first of a failure and the client's half-close decides it. */
  const finish = (status: string, message = ""): void => {
    if (finished || stream.destroyed || stream.closed) return;
    finished = true;
    respondOnce();
    const trailers = message === "" ? { "grpc-status": status } : { "grpc-status": status, "grpc-message": encodeURIComponent(message) };
    stream.once("wantTrailers", () => stream.sendTrailers(trailers));
    stream.end();
  };
  stream.on("error", () => undefined);
  if (path !== METHOD_PATH) {
    stream.resume();
    finish(GRPC_UNIMPLEMENTED, `unknown method ${path ?? ""}`);
    return;
  }
  const reader = new GrpcMessageReader(NOOP_MAX_MESSAGE_BYTES);
  const fail = (status: string, why: string): void => {
    stream.removeAllListeners("data");
    stream.resume();
    finish(status, why);
  };
  stream.on("data", (chunk: Buffer) => {
    const { answers, failure } = answerChunk(reader, chunk);
    for (const framed of answers) {
      respondOnce();
      stream.write(framed);
    }
    if (failure) fail(failure.status, failure.message);
  });
  stream.on("end", () => {
    const { status, message } = endStatus(reader);
    finish(status, message);
  });
}

disablePretenuring();
const [host = "127.0.0.1", port = "50062"] = (process.argv[2] ?? "").split(":");
const server = createServer();
server.on("stream", (stream, headers) => serve(stream, headers[constants.HTTP2_HEADER_PATH] as string | undefined));
server.on("sessionError", () => undefined);
server.listen(Number(port), host, () => {
  const { address, port: bound } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ event: "listening", grpc: `${address}:${bound}` })}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
