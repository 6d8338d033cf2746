/**
 * A stand-in ext_proc server on node:http2 that answers BUFFERED request exchanges (a headers
 * continue, then a body continue) and can misbehave on purpose, for testing clients of the
 * protocol: the benchmark's latency client must count each misbehaviour as an error.
 */
import { createServer, type ServerHttp2Stream } from "node:http2";
import type { AddressInfo, Socket } from "node:net";
import { GrpcMessageReader, withGrpcPrefix } from "../../bench/ext-proc/grpc-framing.js";
import { ProcessingResponse } from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";

const CONTINUE_HEADERS = withGrpcPrefix(ProcessingResponse.encode({ response: { $case: "requestHeaders", value: {} }, requestDrain: false }).finish());
const CONTINUE_BODY = withGrpcPrefix(ProcessingResponse.encode({ response: { $case: "requestBody", value: {} }, requestDrain: false }).finish());

/** Ways for a stand-in server to misbehave; with none, it answers as a healthy ext_proc server does. */
export interface Misbehaviour {
  /** The first answer of the `index`th stream (from 0), framed, instead of a headers continue. */
  firstAnswer?: (index: number) => Buffer | undefined;
  /** Ends its responses without trailers, so without any grpc-status. */
  withoutStatus?: boolean;
  /**
   * Answers due from `from` (ms since the epoch) are held until `until`, or for good without one: a
   * server that stalls, or hangs.
   */
  stall?: { from: number; until?: number };
}

export interface StandIn {
  readonly port: number;
  /** Stops listening and closes every connection at once, without GOAWAY, as a server that crashed would. */
  close(): Promise<void>;
}

function answer(stream: ServerHttp2Stream, index: number, misbehaviour: Misbehaviour): void {
  stream.on("error", () => undefined);
  stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: misbehaviour.withoutStatus !== true });
  stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
  const reader = new GrpcMessageReader();
  let answers = 0;
  stream.on("data", (chunk: Buffer) => {
    const complete = reader.push(chunk).length;
    for (let i = 0; i < complete; i++) {
      answers += 1;
      const last = answers === 2;
      const frame = last ? CONTINUE_BODY : (misbehaviour.firstAnswer?.(index) ?? CONTINUE_HEADERS);
      const send = (): void => {
        if (stream.closed) return;
        stream.write(frame);
        if (last) stream.end();
      };
      const { stall } = misbehaviour;
      const now = Date.now();
      if (stall === undefined || now < stall.from || now >= (stall.until ?? Infinity)) send();
      else if (stall.until !== undefined) setTimeout(send, stall.until - now);
    }
  });
}

export async function standIn(misbehaviour: Misbehaviour = {}): Promise<StandIn> {
  const server = createServer();
  const sockets = new Set<Socket>();
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.on("sessionError", () => undefined);
  let streams = 0;
  server.on("stream", (stream) => answer(stream, streams++, misbehaviour));
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((closed) => {
        // Called at once, with an error, on a server already closed.
        server.close(() => closed());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
