/**
 * Builders for the ProcessingResponse messages meshrasp sends. Every answer sets exactly one
 * member of the `response` oneof; an empty sub-message means "continue unchanged".
 */
import type {
  HeaderMutation,
  ProcessingResponse,
} from "../../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import type { StatusCode } from "../../../protos/generated/envoy/type/v3/http_status.js";
import {
  type ProcessingMode_BodySendMode,
  ProcessingMode_HeaderSendMode,
} from "../../../protos/generated/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js";
import type { Direction } from "../policy/active-policy.js";
import { headerMutation, setHeader } from "./header-codec.js";

/** gRPC status PERMISSION_DENIED, sent to gRPC clients whose request is denied. */
const GRPC_PERMISSION_DENIED = 7;

type DynamicMetadata = Record<string, unknown> | undefined;

function withMetadata(answer: ProcessingResponse, metadata: DynamicMetadata): ProcessingResponse {
  if (metadata !== undefined) answer.dynamicMetadata = metadata;
  return answer;
}

function bare(response: ProcessingResponse["response"]): ProcessingResponse {
  return { response, requestDrain: false };
}

export function continueHeaders(direction: Direction, mutation?: HeaderMutation, metadata?: DynamicMetadata): ProcessingResponse {
  const value = { response: mutation ? { status: 0, headerMutation: mutation, clearRouteCache: false } : undefined };
  return withMetadata(
    bare(direction === "request" ? { $case: "requestHeaders", value } : { $case: "responseHeaders", value }),
    metadata,
  );
}

export function continueBody(direction: Direction, metadata?: DynamicMetadata, mutation?: HeaderMutation): ProcessingResponse {
  const value = { response: mutation ? { status: 0, headerMutation: mutation, clearRouteCache: false } : undefined };
  return withMetadata(
    bare(direction === "request" ? { $case: "requestBody", value } : { $case: "responseBody", value }),
    metadata,
  );
}

/** Replaces the body (BUFFERED) or this chunk (STREAMED); an empty replacement clears it. */
export function replaceBody(direction: Direction, body: Buffer, mutation?: HeaderMutation, metadata?: DynamicMetadata): ProcessingResponse {
  const value = {
    response: {
      status: 0,
      clearRouteCache: false,
      headerMutation: mutation,
      bodyMutation: {
        mutation: body.length === 0 ? { $case: "clearBody" as const, value: true } : { $case: "body" as const, value: body },
      },
    },
  };
  return withMetadata(
    bare(direction === "request" ? { $case: "requestBody", value } : { $case: "responseBody", value }),
    metadata,
  );
}

/**
 * Sets both body modes for the rest of this request. Envoy takes both body modes from an override
 * (a missing one means NONE), so both are always stated; header and trailer modes stay as they are.
 */
export function withBodyModes(
  answer: ProcessingResponse,
  requestBodyMode: ProcessingMode_BodySendMode,
  responseBodyMode: ProcessingMode_BodySendMode,
): ProcessingResponse {
  answer.modeOverride = {
    requestHeaderMode: ProcessingMode_HeaderSendMode.DEFAULT,
    responseHeaderMode: ProcessingMode_HeaderSendMode.DEFAULT,
    requestBodyMode,
    responseBodyMode,
    requestTrailerMode: ProcessingMode_HeaderSendMode.DEFAULT,
    responseTrailerMode: ProcessingMode_HeaderSendMode.DEFAULT,
  };
  return answer;
}

/** FULL_DUPLEX_STREAMED: the bytes to forward travel back in the answer, in order. */
export function streamedBody(direction: Direction, body: Buffer, endOfStream: boolean, metadata?: DynamicMetadata): ProcessingResponse {
  const value = {
    response: {
      status: 0,
      clearRouteCache: false,
      bodyMutation: {
        mutation: {
          $case: "streamedResponse" as const,
          value: { body, endOfStream, endOfStreamWithoutMessage: false, grpcMessageCompressed: false },
        },
      },
    },
  };
  return withMetadata(
    bare(direction === "request" ? { $case: "requestBody", value } : { $case: "responseBody", value }),
    metadata,
  );
}

export function continueTrailers(direction: Direction, metadata?: DynamicMetadata): ProcessingResponse {
  const value = { headerMutation: undefined };
  return withMetadata(
    bare(direction === "request" ? { $case: "requestTrailers", value } : { $case: "responseTrailers", value }),
    metadata,
  );
}

export interface DenyDetails {
  readonly status: number;
  /** Whether the request or the upstream's response is withheld. */
  readonly what: Direction;
  readonly decisionId: string;
  readonly requestId: string | undefined;
  readonly grpc: boolean;
  /** Extra headers the policy adds to a deny. */
  readonly headers: readonly (readonly [string, string])[];
  /** Short reason for Envoy's %RESPONSE_CODE_DETAILS% (whitespace is not allowed there). */
  readonly details: string;
}

/** A deny: Envoy's local reply with a JSON body naming the decision, never a bare status. */
export function denyAnswer(deny: DenyDetails, metadata?: DynamicMetadata): ProcessingResponse {
  const headers = [setHeader("content-type", "application/json"), setHeader("x-meshrasp-decision-id", deny.decisionId)];
  if (deny.requestId !== undefined) headers.push(setHeader("x-request-id", deny.requestId));
  for (const [name, value] of deny.headers) headers.push(setHeader(name, value));
  const body = Buffer.from(JSON.stringify({ error: `${deny.what} blocked`, id: deny.decisionId }), "utf8");
  return withMetadata(
    bare({
      $case: "immediateResponse",
      value: {
        status: { code: deny.status as StatusCode },
        headers: headerMutation(headers),
        body,
        grpcStatus: deny.grpc ? { status: GRPC_PERMISSION_DENIED } : undefined,
        details: deny.details.replace(/\s+/g, "_"),
      },
    }),
    metadata,
  );
}
