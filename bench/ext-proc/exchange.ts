/**
 * The ext_proc exchange the ext_proc benchmarks replay: an Envoy-like request-headers message
 * (BUFFERED protocol_config) and a request-body message, gRPC-framed as on the wire.
 */
import { ProcessingMode_BodySendMode as BodyMode } from "../../protos/generated/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js";
import { ProcessingRequest } from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { withGrpcPrefix } from "./grpc-framing.js";

export function headersRequest(): ProcessingRequest {
  const pairs: [string, string][] = [
    [":method", "POST"], [":path", "/api/orders?source=web&page=2"], [":authority", "shop.example.test"], [":scheme", "https"],
    ["content-type", "application/json"], ["content-length", "1024"], ["user-agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0"],
    ["accept", "application/json"], ["x-request-id", "3f0c9a52-8d1b-4a57-9a55-b6c2a8f0e7d1"], ["x-forwarded-proto", "https"],
  ];
  return {
    request: { $case: "requestHeaders", value: { headers: { headers: pairs.map(([key, v]) => ({ key, value: "", rawValue: Buffer.from(v) })) }, attributes: {}, endOfStream: false } },
    attributes: {},
    observabilityMode: false,
    protocolConfig: { requestBodyMode: BodyMode.BUFFERED, responseBodyMode: BodyMode.NONE, sendBodyWithoutWaitingForHeaderResponse: false },
    metadataContext: { filterMetadata: {}, typedFilterMetadata: {} },
  };
}

/** A benign 1 KiB JSON order, the shape of ordinary API traffic. */
export function jsonBody(): Buffer {
  const items = Array.from({ length: 8 }, (_, i) => ({ sku: `SKU-${1000 + i}`, name: `Garden chair model ${i}`, quantity: i + 1, price: 19.99 + i }));
  let text = JSON.stringify({ customer: { id: 48213, email: "ana@example.test", tier: "gold" }, items, note: "" });
  text = JSON.stringify({ ...JSON.parse(text), note: "x".repeat(Math.max(0, 1024 - text.length - 2)) });
  return Buffer.from(text.slice(0, 1024 + 20));
}

export function bodyRequest(body: Buffer): ProcessingRequest {
  return { request: { $case: "requestBody", value: { body, endOfStream: true, endOfStreamWithoutMessage: false, grpcMessageCompressed: false } }, attributes: {}, observabilityMode: false };
}

/** One message with gRPC's 5-byte prefix. */
export function grpcFrame(message: ProcessingRequest): Buffer {
  return withGrpcPrefix(ProcessingRequest.encode(message).finish());
}

/** An exchange as h2load and lockstep-client.c replay it: the request-headers message, then `body`'s. */
export function exchangeFrames(body: Buffer): Buffer {
  return Buffer.concat([grpcFrame(headersRequest()), grpcFrame(bodyRequest(body))]);
}
