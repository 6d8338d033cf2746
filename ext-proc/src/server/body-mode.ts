/**
 * Body modes as the server needs them. Envoy announces the modes in `protocol_config` on the first
 * message of a stream; older Envoy does not, and then the server cannot tell a buffered body from
 * the first of several streamed chunks.
 */
import { ProcessingMode_BodySendMode } from "../../../protos/generated/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js";

export type BodyMode = "none" | "streamed" | "buffered" | "buffered_partial" | "full_duplex" | "unknown";

export function bodyMode(mode: ProcessingMode_BodySendMode): BodyMode {
  switch (mode) {
    case ProcessingMode_BodySendMode.NONE:
      return "none";
    case ProcessingMode_BodySendMode.STREAMED:
      return "streamed";
    case ProcessingMode_BodySendMode.BUFFERED:
      return "buffered";
    case ProcessingMode_BodySendMode.BUFFERED_PARTIAL:
      return "buffered_partial";
    case ProcessingMode_BodySendMode.FULL_DUPLEX_STREAMED:
      return "full_duplex";
    default:
      // GRPC (not implemented by Envoy) and values newer than this build.
      return "unknown";
  }
}

/**
 * Whether a body message is the last one of its direction, and whether the body it ends is whole.
 * BUFFERED and BUFFERED_PARTIAL send exactly one message: with `end_of_stream: false` it is
 * followed by trailers (BUFFERED) or was cut at Envoy's buffer limit (BUFFERED_PARTIAL, which the
 * server cannot tell from trailers, so it is reported as possibly incomplete).
 */
export function bodyChunkInfo(mode: BodyMode, endOfStream: boolean): { last: boolean; complete: boolean } {
  if (endOfStream) return { last: true, complete: true };
  switch (mode) {
    case "buffered":
      return { last: true, complete: true };
    case "buffered_partial":
      return { last: true, complete: false };
    default:
      // More chunks follow: nothing is known to be missing.
      return { last: false, complete: true };
  }
}
