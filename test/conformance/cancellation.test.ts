/**
 * Envoy resets streams at any point (envoy-ext-proc.md §0 "half-closes and immediately resets", §1.4 "expect
 * RST/cancel at any point"). Whatever the point, the server's open-stream gauge must come back to 0, and a cancel
 * is never counted as malformed, unknown, out-of-order or internal.
 */
import { describe, expect, it } from "vitest";
import { status as GrpcCode } from "@grpc/grpc-js";
import { expectContinue, expectDeny } from "./answer-checks.js";
import {
  getRequest,
  newRequestId,
  okResponseHeaders,
  postRequest,
  requestBody,
} from "./envoy-messages.js";
import { BodyMode, type EnvoyStream, type StreamOptions } from "./fake-envoy.js";
import { useMeshrasp } from "./meshrasp-under-test.js";

const meshrasp = useMeshrasp();
const PROTOCOL_ERRORS = ["malformed_message", "unknown_message", "out_of_order", "internal_error"] as const;
const BIG_JSON = JSON.stringify({ items: Array.from({ length: 8_000 }, (_, i) => ({ id: i, name: `item ${i}`, note: "plain text" })) });

interface CancelPoint {
  readonly name: string;
  readonly options?: StreamOptions;
  /** The point is reached through a deny, so it depends on the default policy, not only on the protocol. */
  readonly throughDeny?: boolean;
  /** Drives the stream up to the point where Envoy resets it. */
  readonly drive: (stream: EnvoyStream) => Promise<void>;
}

const cancelPoints: readonly CancelPoint[] = [
  { name: "stream opened, nothing sent", drive: async () => undefined },
  { name: "request_headers sent, answer pending", drive: async (stream) => stream.send(getRequest("/products")) },
  {
    name: "BUFFERED body sent, inspection in progress",
    options: { requestBodyMode: BodyMode.BUFFERED },
    drive: async (stream) => {
      expectContinue(await stream.exchange(postRequest("/api/import", "application/json", BIG_JSON.length)), "requestHeaders");
      stream.send(requestBody(BIG_JSON, true));
    },
  },
  {
    name: "request_headers answered, BUFFERED body not sent yet",
    options: { requestBodyMode: BodyMode.BUFFERED },
    drive: async (stream) => {
      expectContinue(await stream.exchange(postRequest("/api/orders", "application/json", 20)), "requestHeaders");
    },
  },
  {
    name: "STREAMED, three chunks in flight",
    options: { requestBodyMode: BodyMode.STREAMED },
    drive: async (stream) => {
      expectContinue(await stream.exchange(postRequest("/upload", "text/plain", 300)), "requestHeaders");
      for (let i = 0; i < 3; i += 1) stream.send(requestBody("x".repeat(100), false));
    },
  },
  {
    name: "STREAMED, chunks answered, more expected",
    options: { requestBodyMode: BodyMode.STREAMED },
    drive: async (stream) => {
      expectContinue(await stream.exchange(postRequest("/upload", "text/plain", 300)), "requestHeaders");
      expectContinue(await stream.exchange(requestBody("x".repeat(100), false)), "requestBody");
    },
  },
  {
    name: "FULL_DUPLEX_STREAMED, body half sent",
    options: { requestBodyMode: BodyMode.FULL_DUPLEX_STREAMED },
    drive: async (stream) => {
      stream.send(postRequest("/upload", "application/octet-stream", 300));
      stream.send(requestBody(Buffer.alloc(100, 0x41), false));
      expectContinue(await stream.nextAnswer(), "requestHeaders");
    },
  },
  {
    name: "after an immediate_response",
    throughDeny: true,
    drive: async (stream) => {
      const requestId = newRequestId();
      expectDeny(await stream.exchange(getRequest("/download?file=../../../../etc/passwd", requestId)), { requestId });
    },
  },
  {
    name: "observability mode, mid-transaction",
    options: { observability: true },
    drive: async (stream) => {
      stream.send(getRequest("/products"));
      await stream.unreadAnswersAfter(50);
    },
  },
];

const protocolOnlyPoints = cancelPoints.filter((point) => point.throughDeny !== true);

async function protocolErrorCount(): Promise<number> {
  const counts = await Promise.all(PROTOCOL_ERRORS.map((code) => meshrasp.admin.streamErrors(code)));
  return counts.reduce((sum, count) => sum + count, 0);
}

describe("cancel at every point", () => {
  it.each(cancelPoints)("$name: the open-stream gauge goes 1 → 0", async ({ options, drive }) => {
    expect(await meshrasp.admin.metricSettlesAt("meshrasp_open_streams", 0)).toBe(0);
    const errorsBefore = await protocolErrorCount();
    const stream = meshrasp.envoy.open(options);
    await drive(stream);
    expect(await meshrasp.admin.metricSettlesAt("meshrasp_open_streams", 1), "the open stream is counted").toBe(1);
    stream.closeLikeEnvoy();
    expect(await meshrasp.admin.metricSettlesAt("meshrasp_open_streams", 0), "gauge after the reset").toBe(0);
    expect(await protocolErrorCount()).toBe(errorsBefore);
  });

  it("after the last answer (the normal end): costs no stream error at all", async () => {
    const errorsBefore = await meshrasp.admin.streamErrors();
    const stream = meshrasp.envoy.open();
    expectContinue(await stream.exchange(getRequest("/products")), "requestHeaders");
    expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
    stream.closeLikeEnvoy();
    expect(await meshrasp.admin.metricSettlesAt("meshrasp_open_streams", 0)).toBe(0);
    expect(await meshrasp.admin.streamErrors()).toBe(errorsBefore);
  });

  it("a bare RST without half-close, and a half-close followed later by the reset, both clean up", async () => {
    const reset = meshrasp.envoy.open();
    expectContinue(await reset.exchange(getRequest("/a")), "requestHeaders");
    reset.cancel();
    const graceful = meshrasp.envoy.open();
    expectContinue(await graceful.exchange(getRequest("/b")), "requestHeaders");
    graceful.halfClose();
    await graceful.unreadAnswersAfter(100);
    graceful.cancel();
    expect(await meshrasp.admin.metricSettlesAt("meshrasp_open_streams", 0)).toBe(0);
  });

  it("60 concurrent streams reset at mixed points leave no stream open and the server serving", async () => {
    const errorsBefore = await protocolErrorCount();
    await Promise.all(
      Array.from({ length: 60 }, async (_, i) => {
        const point = protocolOnlyPoints[i % protocolOnlyPoints.length] as CancelPoint;
        const stream = meshrasp.envoy.open(point.options);
        await point.drive(stream);
        stream.closeLikeEnvoy();
      }),
    );
    expect(await meshrasp.admin.metricSettlesAt("meshrasp_open_streams", 0, {}, 5_000)).toBe(0);
    expect(await protocolErrorCount()).toBe(errorsBefore);
    const stream = meshrasp.envoy.open();
    expectContinue(await stream.exchange(getRequest("/after-the-storm")), "requestHeaders");
    stream.closeLikeEnvoy();
  });
});

describe("graceful close: Envoy half-closes right after its last message and waits (§0 ext_proc_graceful_grpc_close)", () => {
  it("still answers the pending message, a deny, before ending the stream OK", async () => {
    const requestId = newRequestId();
    const stream = meshrasp.envoy.open();
    stream.send(getRequest("/download?file=../../../../etc/passwd", requestId));
    stream.halfClose();
    expectDeny(await stream.nextAnswer(), { requestId });
    expect((await stream.serverEnd()).code).toBe(GrpcCode.OK);
  });

  it("still answers every pipelined STREAMED chunk before ending the stream OK", async () => {
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.STREAMED });
    expectContinue(await stream.exchange(postRequest("/upload", "text/plain", 9)), "requestHeaders");
    ["abc", "def", "ghi"].forEach((chunk, index) => stream.send(requestBody(chunk, index === 2)));
    stream.halfClose();
    for (const answer of await stream.nextAnswers(3)) expectContinue(answer, "requestBody");
    const end = await stream.serverEnd();
    expect(end.code).toBe(GrpcCode.OK);
    expect(stream.answers).toHaveLength(4);
  });
});
