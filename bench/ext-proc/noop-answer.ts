/**
 * What the benchmark's no-op ext_proc servers (noop-server.ts on grpc-js, http2-floor-server.ts on
 * node:http2) answer: an empty continue for each message that expects an answer.
 */
import type { ProcessingRequest, ProcessingResponse } from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";

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
