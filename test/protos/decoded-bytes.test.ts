/**
 * The generated decoders hand out bytes fields as views of the message buffer (see
 * scripts/generate-protos.mjs): no copy of a body chunk on the way in, and still a Buffer.
 */
import { describe, expect, it } from "vitest";
import { ProcessingRequest } from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { processingRequest, requestHeaders, responseBody } from "../conformance/envoy-messages.js";

const request = processingRequest(responseBody("x".repeat(70_000), false));

function body(decoded: ProcessingRequest): Buffer {
  if (decoded.request?.$case !== "responseBody") throw new Error(`decoded ${decoded.request?.$case}`);
  return decoded.request.value.body;
}

describe("generated decoders", () => {
  it("return a body that shares the message buffer's memory", () => {
    const wire = Buffer.from(ProcessingRequest.encode(request).finish());
    const decoded = body(ProcessingRequest.decode(wire));
    expect(Buffer.isBuffer(decoded)).toBe(true);
    expect(decoded.buffer).toBe(wire.buffer);
    expect(decoded.equals(body(request))).toBe(true);
  });

  it("return a Buffer view when given a plain Uint8Array", () => {
    const bytes = new Uint8Array(ProcessingRequest.encode(request).finish());
    const decoded = body(ProcessingRequest.decode(bytes));
    expect(Buffer.isBuffer(decoded)).toBe(true);
    expect(decoded.buffer).toBe(bytes.buffer);
    expect(decoded.toString("latin1")).toBe("x".repeat(70_000));
  });

  it("decode header raw values as Buffers", () => {
    const head = requestHeaders({ method: "GET", path: "/", headers: [["a", "b"]], endOfStream: true });
    const decoded = ProcessingRequest.decode(ProcessingRequest.encode(processingRequest(head)).finish());
    const headers = decoded.request?.$case === "requestHeaders" ? decoded.request.value.headers?.headers : undefined;
    const raw = headers?.find((h) => h.key === "a")?.rawValue;
    expect(Buffer.isBuffer(raw) && raw.toString()).toBe("b");
  });
});
