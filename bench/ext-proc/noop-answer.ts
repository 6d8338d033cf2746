/**
 * What the benchmark's no-op ext_proc servers (noop-server.ts on grpc-js, and the two floors,
 * http2-floor-server.ts and lean-h2-floor-server.ts) answer: an empty continue for each message
 * that expects an answer. The floors frame gRPC by hand, and share here how a call's chunks are
 * answered and with which status it ends.
 */
import { ProcessingRequest, ProcessingResponse } from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { type GrpcMessageReader, withGrpcPrefix } from "./grpc-framing.js";

/** Longest message the no-op servers accept: meshrasp's default, restated (test/bench/noop-answer.test.ts holds them equal). */
export const NOOP_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export function answer(message: ProcessingRequest): ProcessingResponse | undefined {
  // Made per answer, as the no-op server always has: the baseline's allocations stay as measured before.
  const empty = { response: undefined };
  switch (message.request?.$case) {
    case "requestHeaders":
      return { response: { $case: "requestHeaders", value: empty }, requestDrain: false };
    case "responseHeaders":
      return { response: { $case: "responseHeaders", value: empty }, requestDrain: false };
    case "requestBody":
      return { response: { $case: "requestBody", value: empty }, requestDrain: false };
    case "responseBody":
      return { response: { $case: "responseBody", value: empty }, requestDrain: false };
    default:
      return undefined;
  }
}

/** gRPC status codes, as the floors' trailers carry them. */
export const GRPC_OK = "0";
export const GRPC_RESOURCE_EXHAUSTED = "8";
export const GRPC_UNIMPLEMENTED = "12";
export const GRPC_INTERNAL = "13";

/** A status that ends a call, with its message (empty for none). */
export interface CallStatus {
  status: string;
  message: string;
}

/**
 * A floor's answers to one chunk of a call: each whole message it completes, decoded and answered,
 * framed for the wire; and, when a message is oversized, compressed or undecodable, the status that
 * ends the call there (the answers before it still go out first).
 */
export function answerChunk(reader: GrpcMessageReader, chunk: Buffer): { answers: Buffer[]; failure?: CallStatus } {
  const answers: Buffer[] = [];
  let messages: Buffer[];
  try {
    messages = reader.push(chunk);
  } catch (error) {
    return { answers, failure: { status: error instanceof RangeError ? GRPC_RESOURCE_EXHAUSTED : GRPC_INTERNAL, message: (error as Error).message } };
  }
  for (const bytes of messages) {
    let reply: ProcessingResponse | undefined;
    try {
      reply = answer(ProcessingRequest.decode(bytes));
    } catch (error) {
      return { answers, failure: { status: GRPC_INTERNAL, message: `undecodable message: ${(error as Error).message}` } };
    }
    if (reply !== undefined) answers.push(withGrpcPrefix(ProcessingResponse.encode(reply).finish()));
  }
  return { answers };
}

/** The status a floor's call ends with once the client half-closes. */
export function endStatus(reader: GrpcMessageReader): CallStatus {
  return reader.partial ? { status: GRPC_INTERNAL, message: "the call ended inside a message" } : { status: GRPC_OK, message: "" };
}
