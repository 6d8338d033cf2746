/**
 * The suite is only as strict as its checks: these prove that `envoyViolations` and the metric reader catch what
 * envoy-ext-proc.md §1.3, §3.2 and §3.6 say Envoy would reject or misread, without a server.
 */
import { describe, expect, it } from "vitest";
import { ProcessingResponse } from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { metricValue } from "./admin-metrics.js";
import { envoyViolations } from "./answer-checks.js";

/** Encodes and decodes, so the checks see exactly what would come off the wire. */
function wire(answer: ProcessingResponse): ProcessingResponse {
  return ProcessingResponse.decode(ProcessingResponse.encode(answer).finish());
}

describe("envoyViolations", () => {
  it("accepts an empty headers answer and a well-formed deny", () => {
    expect(envoyViolations(wire(ProcessingResponse.fromPartial({ response: { $case: "requestHeaders", value: {} } })))).toEqual([]);
    const deny = ProcessingResponse.fromPartial({
      response: {
        $case: "immediateResponse",
        value: {
          status: { code: 403 },
          headers: { setHeaders: [{ header: { key: "content-type", rawValue: Buffer.from("application/json") }, append: false }] },
        },
      },
    });
    expect(envoyViolations(wire(deny))).toEqual([]);
  });

  it("flags an answer with no oneof member (§1.3 unhandled_message)", () => {
    expect(envoyViolations(wire(ProcessingResponse.fromPartial({})))).toHaveLength(1);
  });

  it("flags an ImmediateResponse without status (§3.6: Envoy answers 200)", () => {
    const noStatus = ProcessingResponse.fromPartial({ response: { $case: "immediateResponse", value: { body: Buffer.from("no") } } });
    expect(envoyViolations(wire(noStatus))).toHaveLength(1);
  });

  it("flags a header value sent in `value`, an unset append, and CR/LF in raw_value (§3.2)", () => {
    const answer = ProcessingResponse.fromPartial({
      response: {
        $case: "requestBody",
        value: {
          response: {
            headerMutation: {
              setHeaders: [
                { header: { key: "x-a", value: "text" }, append: false },
                { header: { key: "x-b", rawValue: Buffer.from("1") } },
                { header: { key: "x-c", rawValue: Buffer.from("1\r\nx-evil: 1") }, append: false },
              ],
            },
          },
        },
      },
    });
    expect(envoyViolations(wire(answer))).toHaveLength(3);
  });
});

describe("metricValue", () => {
  const exposition = [
    "# HELP meshrasp_stream_errors_total Streams ended by a protocol error.",
    "# TYPE meshrasp_stream_errors_total counter",
    'meshrasp_stream_errors_total{code="malformed_message"} 2',
    'meshrasp_stream_errors_total{code="out_of_order",phase="request_body"} 1',
    "meshrasp_open_streams 3",
  ].join("\n");

  it("sums the samples whose labels include the ones asked for", () => {
    expect(metricValue(exposition, "meshrasp_stream_errors_total")).toBe(3);
    expect(metricValue(exposition, "meshrasp_stream_errors_total", { code: "out_of_order" })).toBe(1);
    expect(metricValue(exposition, "meshrasp_stream_errors_total", { code: "unknown_message" })).toBe(0);
    expect(metricValue(exposition, "meshrasp_open_streams")).toBe(3);
  });
});
