/**
 * Builders for the `ProcessingRequest` members Envoy sends, shaped as envoy-ext-proc.md §1.1 describes them:
 * lower-case keys, values in `raw_value` only (`value` always empty), pseudo-headers included, `x-request-id`
 * and `x-forwarded-proto` added by the connection manager before the filter runs.
 */
import { randomUUID } from "node:crypto";
import type { HeaderMap } from "../../protos/generated/envoy/config/core/v3/base.js";
import type { ProcessingRequest } from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";

/** The `request` oneof of a `ProcessingRequest`, i.e. one message as Envoy would send it. */
export type EnvoyMessage = NonNullable<ProcessingRequest["request"]>;

/** One message in the envelope Envoy wraps it in, bare: no attributes, metadata or `protocol_config`. */
export function processingRequest(message: EnvoyMessage): ProcessingRequest {
  return { request: message, attributes: {}, observabilityMode: false };
}

/** Header name and value as a client would send them; a Buffer value keeps non-UTF-8 bytes intact. */
export type HeaderInput = readonly (readonly [string, string | Buffer])[];

export function headerMap(headers: HeaderInput): HeaderMap {
  return {
    headers: headers.map(([key, value]) => ({
      key: key.toLowerCase(),
      value: "",
      rawValue: typeof value === "string" ? Buffer.from(value, "latin1") : value,
    })),
  };
}

export function newRequestId(): string {
  return randomUUID();
}

export interface RequestHeadSpec {
  readonly method: string;
  /** The raw request target, query string included, exactly as the client sent it (a Buffer keeps non-UTF-8 bytes). */
  readonly path: string | Buffer;
  readonly authority?: string;
  readonly scheme?: string;
  /** Client headers, after the pseudo-headers and before the ones Envoy's connection manager adds. */
  readonly headers?: HeaderInput;
  /** Defaults to a fresh UUID; pass one to check it is echoed. */
  readonly requestId?: string;
  /** True when the request has neither body nor trailers (GET, HEAD). */
  readonly endOfStream: boolean;
}

export function requestHeaders(spec: RequestHeadSpec): EnvoyMessage {
  const headers: HeaderInput = [
    [":authority", spec.authority ?? "shop.example.com"],
    [":path", spec.path],
    [":method", spec.method],
    [":scheme", spec.scheme ?? "http"],
    ...(spec.headers ?? []),
    ["x-forwarded-proto", spec.scheme ?? "http"],
    ["x-request-id", spec.requestId ?? newRequestId()],
  ];
  return { $case: "requestHeaders", value: { headers: headerMap(headers), attributes: {}, endOfStream: spec.endOfStream } };
}

export function responseHeaders(status: number, headers: HeaderInput, endOfStream: boolean): EnvoyMessage {
  return {
    $case: "responseHeaders",
    value: { headers: headerMap([[":status", String(status)], ...headers]), attributes: {}, endOfStream },
  };
}

function httpBody(body: string | Buffer, endOfStream: boolean) {
  return {
    body: typeof body === "string" ? Buffer.from(body, "utf8") : body,
    endOfStream,
    endOfStreamWithoutMessage: false,
    grpcMessageCompressed: false,
  };
}

export function requestBody(body: string | Buffer, endOfStream: boolean): EnvoyMessage {
  return { $case: "requestBody", value: httpBody(body, endOfStream) };
}

export function responseBody(body: string | Buffer, endOfStream: boolean): EnvoyMessage {
  return { $case: "responseBody", value: httpBody(body, endOfStream) };
}

export function requestTrailers(trailers: HeaderInput): EnvoyMessage {
  return { $case: "requestTrailers", value: { trailers: headerMap(trailers) } };
}

export function responseTrailers(trailers: HeaderInput): EnvoyMessage {
  return { $case: "responseTrailers", value: { trailers: headerMap(trailers) } };
}

/** A plain 200 response head from an upstream, with a body that the response body mode may or may not send. */
export function okResponseHeaders(endOfStream = false): EnvoyMessage {
  return responseHeaders(200, [["content-type", "text/html; charset=utf-8"], ["content-length", "13"]], endOfStream);
}

/** A plain browser GET with no body. */
export function getRequest(path: string, requestId?: string, headers: HeaderInput = []): EnvoyMessage {
  return requestHeaders({
    method: "GET",
    path,
    requestId,
    endOfStream: true,
    headers: [["user-agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"], ["accept", "text/html"], ...headers],
  });
}

/** The head of a request that has a body (`end_of_stream: false`). */
export function postRequest(path: string, contentType: string, contentLength: number, requestId?: string): EnvoyMessage {
  return requestHeaders({
    method: "POST",
    path,
    requestId,
    endOfStream: false,
    headers: [
      ["user-agent", "curl/8.5.0"],
      ["content-type", contentType],
      ["content-length", String(contentLength)],
    ],
  });
}
