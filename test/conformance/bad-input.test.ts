/**
 * Messages no conforming Envoy sends (envoy-ext-proc.md §1.1 "exactly one is set", §1.3 ordering per direction):
 * the stream ends with INVALID_ARGUMENT and one `meshrasp_stream_errors_total{code}` increment; other streams on the
 * same connection do not notice; the process keeps serving. Never a clean OK close (§1.3: OK means "allow the rest").
 */
import { describe, expect, it } from "vitest";
import { status as GrpcCode } from "@grpc/grpc-js";
import { expectContinue } from "./answer-checks.js";
import { getRequest, okResponseHeaders, postRequest, requestBody } from "./envoy-messages.js";
import { BodyMode, type EnvoyStream, type StreamOptions } from "./fake-envoy.js";
import { ServingStatus, useMeshrasp } from "./meshrasp-under-test.js";

const meshrasp = useMeshrasp();

type ErrorCode = "malformed_message" | "unknown_message" | "out_of_order";

/** Drives one stream into a protocol error and checks how it ends, what it cost, and that nothing leaked. */
async function expectRejected(code: ErrorCode, options: StreamOptions, drive: (stream: EnvoyStream) => Promise<void>): Promise<void> {
  const before = await meshrasp.admin.streamErrors(code);
  const logLinesBefore = linesMentioning(code);
  const stream = meshrasp.envoy.open(options);
  await drive(stream);
  const end = await stream.serverEnd();
  expect(end.code, `gRPC status (details: "${end.details}")`).toBe(GrpcCode.INVALID_ARGUMENT);
  // Envoy puts the status message into %RESPONSE_CODE_DETAILS% (ext_proc_error_gRPC_error_3{<message>}, §1.3).
  expect(end.details, "the stable code in the status message").toContain(code);
  expect(stream.unreadAnswers(), "answers after the bad message").toEqual([]);
  expect(await meshrasp.admin.metricSettlesAt("meshrasp_stream_errors_total", before + 1, { code })).toBe(before + 1);
  expect(await meshrasp.admin.metricSettlesAt("meshrasp_open_streams", 0)).toBe(0);
  expect(await meshrasp.admin.streamErrors(code), "exactly one increment").toBe(before + 1);
  expect(linesMentioning(code) - logLinesBefore, `JSON log lines mentioning ${code}`).toBe(1);
}

function linesMentioning(code: string): number {
  return meshrasp.logLines().filter((line) => JSON.stringify(line).includes(`"${code}"`)).length;
}

describe("malformed message (bytes that do not decode as a ProcessingRequest)", () => {
  it("as the first message: truncated length-delimited field", async () => {
    await expectRejected("malformed_message", {}, async (stream) => stream.sendRaw(Buffer.from("127f01", "hex")));
  });

  it("after a valid exchange: invalid wire type", async () => {
    await expectRejected("malformed_message", {}, async (stream) => {
      expectContinue(await stream.exchange(getRequest("/products")), "requestHeaders");
      stream.sendRaw(Buffer.from("0f", "hex"));
    });
  });
});

describe("message with no oneof member set", () => {
  it("only metadata_context and protocol_config", async () => {
    await expectRejected("unknown_message", { requestBodyMode: BodyMode.BUFFERED }, async (stream) => stream.sendWithoutMember());
  });

  it("a member from a newer Envoy (unknown field 13) after a valid exchange", async () => {
    await expectRejected("unknown_message", {}, async (stream) => {
      expectContinue(await stream.exchange(getRequest("/products")), "requestHeaders");
      stream.sendRaw(Buffer.from("6a00" + "4200", "hex"));
    });
  });
});

describe("out-of-order messages", () => {
  it("a second request_headers on the same stream", async () => {
    await expectRejected("out_of_order", {}, async (stream) => {
      expectContinue(await stream.exchange(getRequest("/products")), "requestHeaders");
      stream.send(getRequest("/products"));
    });
  });

  it("a request_body after the request headers said end_of_stream", async () => {
    await expectRejected("out_of_order", { requestBodyMode: BodyMode.STREAMED }, async (stream) => {
      expectContinue(await stream.exchange(getRequest("/products")), "requestHeaders");
      stream.send(requestBody("late", true));
    });
  });

  it("a request_body after the body's end_of_stream", async () => {
    await expectRejected("out_of_order", { requestBodyMode: BodyMode.STREAMED }, async (stream) => {
      expectContinue(await stream.exchange(postRequest("/upload", "text/plain", 4)), "requestHeaders");
      expectContinue(await stream.exchange(requestBody("data", true)), "requestBody");
      stream.send(requestBody("more", true));
    });
  });

  it("a second response_headers", async () => {
    await expectRejected("out_of_order", {}, async (stream) => {
      expectContinue(await stream.exchange(getRequest("/products")), "requestHeaders");
      expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
      stream.send(okResponseHeaders());
    });
  });

  it("request_headers after that direction's body", async () => {
    await expectRejected("out_of_order", { requestBodyMode: BodyMode.STREAMED }, async (stream) => {
      expectContinue(await stream.exchange(requestBody("data", false)), "requestBody");
      stream.send(postRequest("/upload", "text/plain", 4));
    });
  });
});

describe("a bad stream does not disturb anyone else", () => {
  it("an in-flight stream on the same connection continues, new streams work, the process serves", async () => {
    const bystander = meshrasp.envoy.open({ requestBodyMode: BodyMode.STREAMED });
    expectContinue(await bystander.exchange(postRequest("/upload", "text/plain", 8)), "requestHeaders");
    const errorsBefore = await meshrasp.admin.streamErrors();
    const bad = [Buffer.from("127f01", "hex"), Buffer.from("4200", "hex"), Buffer.from("0f", "hex")].map((bytes) => {
      const stream = meshrasp.envoy.open();
      stream.sendRaw(bytes);
      return stream;
    });
    for (const stream of bad) expect((await stream.serverEnd()).code).toBe(GrpcCode.INVALID_ARGUMENT);
    expect(await meshrasp.admin.metricSettlesAt("meshrasp_stream_errors_total", errorsBefore + 3)).toBe(errorsBefore + 3);

    expectContinue(await bystander.exchange(requestBody("data", false)), "requestBody");
    expectContinue(await bystander.exchange(requestBody("more", true)), "requestBody");
    expectContinue(await bystander.exchange(okResponseHeaders()), "responseHeaders");
    expect(bystander.endSoFar(), "the bystander stream was not ended by the server").toBeUndefined();
    bystander.closeLikeEnvoy();

    const fresh = meshrasp.envoy.open();
    expectContinue(await fresh.exchange(getRequest("/still-alive")), "requestHeaders");
    fresh.closeLikeEnvoy();
    expect(await meshrasp.health()).toBe(ServingStatus.SERVING);
    expect((await meshrasp.admin.get("/healthz")).status).toBe(200);
    expect((await meshrasp.admin.get("/readyz")).status).toBe(200);
  });
});
