/** Errors that end one ext_proc stream, each with a stable code used in logs and metric labels. */
import { status as GrpcStatus } from "@grpc/grpc-js";

export type StreamErrorCode =
  | "malformed_message"
  | "unknown_message"
  | "out_of_order"
  | "internal_error"
  | "inspection_timeout"
  | "undecodable_body";

const GRPC_STATUS: Record<StreamErrorCode, GrpcStatus> = {
  malformed_message: GrpcStatus.INVALID_ARGUMENT,
  unknown_message: GrpcStatus.INVALID_ARGUMENT,
  out_of_order: GrpcStatus.INVALID_ARGUMENT,
  internal_error: GrpcStatus.INTERNAL,
  inspection_timeout: GrpcStatus.DEADLINE_EXCEEDED,
  undecodable_body: GrpcStatus.INTERNAL,
};

export class StreamError extends Error {
  readonly code: StreamErrorCode;

  constructor(code: StreamErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StreamError";
    this.code = code;
  }

  get grpcStatus(): GrpcStatus {
    return GRPC_STATUS[this.code];
  }

  /** Anything thrown while handling a message becomes a StreamError, with `code` unless it is one already. */
  static from(error: unknown, code: StreamErrorCode = "internal_error"): StreamError {
    if (error instanceof StreamError) return error;
    const message = error instanceof Error ? error.message : String(error);
    return new StreamError(code, message, { cause: error });
  }
}
