/**
 * BUFFERED and BUFFERED_PARTIAL bodies (envoy-ext-proc.md §0 "BUFFERED request body" transcript, §1.1 end_of_stream,
 * §2.3, §2.5), trailers (§1.1, §9 scenario 7) and one stream through all six phases.
 */
import { describe, expect, it } from "vitest";
import { expectAnswer, expectContinue, expectDeny } from "./answer-checks.js";
import {
  getRequest,
  requestHeaders,
  newRequestId,
  okResponseHeaders,
  postRequest,
  requestBody,
  requestTrailers,
  responseBody,
  responseHeaders,
  responseTrailers,
} from "./envoy-messages.js";
import { BodyMode } from "./fake-envoy.js";
import { useMeshrasp } from "./meshrasp-under-test.js";

const meshrasp = useMeshrasp();
const JSON_TYPE = "application/json";
const FORM_TYPE = "application/x-www-form-urlencoded";

const benignBodies = [
  ["JSON", JSON_TYPE, '{"name":"Widget","qty":3,"tags":["blue","small"],"note":"gift for Anna"}'],
  ["form", FORM_TYPE, "username=alice&email=alice%40example.com&remember=on"],
] as const;

const attackBodies = [
  ["XSS in a JSON string", JSON_TYPE, '{"comment":"<script>alert(1)</script>"}'],
  ["command injection in a JSON string", JSON_TYPE, '{"host":"127.0.0.1; cat /etc/passwd"}'],
  ["path traversal in a JSON string", JSON_TYPE, '{"file":"../../../../etc/passwd"}'],
  ["SQL injection in a form field", FORM_TYPE, "username=alice&password=1%27+OR+%271%27%3D%271"],
  ["XSS in a form field", FORM_TYPE, "comment=%3Cscript%3Ealert%281%29%3C%2Fscript%3E"],
] as const;

describe("BUFFERED request body", () => {
  it.each(benignBodies)("allows a benign %s body: headers, body and response headers answered CONTINUE in order", async (_kind, type, body) => {
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.BUFFERED });
    expectContinue(await stream.exchange(postRequest("/api/orders", type, Buffer.byteLength(body))), "requestHeaders");
    expectContinue(await stream.exchange(requestBody(body, true)), "requestBody");
    expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
    expect(stream.answers.map((answer) => answer.response?.$case)).toEqual(["requestHeaders", "requestBody", "responseHeaders"]);
    stream.closeLikeEnvoy();
  });

  it.each(attackBodies)("denies %s in the body answer, after a CONTINUE on the headers", async (_kind, type, body) => {
    const requestId = newRequestId();
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.BUFFERED });
    expectContinue(await stream.exchange(postRequest("/api/comments", type, Buffer.byteLength(body), requestId)), "requestHeaders");
    expectDeny(await stream.exchange(requestBody(body, true)), { requestId });
    expect(await stream.unreadAnswersAfter(100)).toEqual([]);
    stream.closeLikeEnvoy();
  });

  it("does not wait for a body when the headers said end_of_stream (§2.3, no body message for a GET)", async () => {
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.BUFFERED });
    expectContinue(await stream.exchange(getRequest("/api/orders/17")), "requestHeaders");
    expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
    stream.closeLikeEnvoy();
  });

  it("accepts a body as large as Envoy's default buffer limit, 1 MiB, in one message (§2.1, §9 max_receive_message_length)", async () => {
    const body = `{"data":"${"a".repeat(1024 * 1024 - 11)}"}`;
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.BUFFERED });
    expectContinue(await stream.exchange(postRequest("/api/import", JSON_TYPE, body.length)), "requestHeaders");
    // Time is not the point here (a loaded CI machine may be slow); size is.
    const answer = await stream.exchange(requestBody(body, true), 10_000);
    expect(["requestBody", "immediateResponse"], "a body answer or a deny, not a transport error").toContain(answer.response?.$case);
    stream.closeLikeEnvoy();
  });

  it("answers an empty body with end_of_stream (§1.1)", async () => {
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.BUFFERED });
    expectContinue(await stream.exchange(postRequest("/api/ping", JSON_TYPE, 0)), "requestHeaders");
    expectContinue(await stream.exchange(requestBody("", true)), "requestBody");
    stream.closeLikeEnvoy();
  });
});

describe("request with trailers, trailer mode SKIP (§1.1, §9 scenario 7)", () => {
  it("answers the only body message although it says end_of_stream: false and no trailers message follows", async () => {
    const body = '{"name":"Widget","qty":3}';
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.BUFFERED });
    expectContinue(await stream.exchange(postRequest("/api/orders", JSON_TYPE, body.length)), "requestHeaders");
    expectContinue(await stream.exchange(requestBody(body, false)), "requestBody");
    expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
    stream.closeLikeEnvoy();
  });

  it("still denies an attack in such a body", async () => {
    const requestId = newRequestId();
    const body = '{"comment":"<script>alert(1)</script>"}';
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.BUFFERED });
    expectContinue(await stream.exchange(postRequest("/api/comments", JSON_TYPE, body.length, requestId)), "requestHeaders");
    expectDeny(await stream.exchange(requestBody(body, false)), { requestId });
    stream.closeLikeEnvoy();
  });
});

describe("the response starts while the request body is still expected (§1.4)", () => {
  it("answers the 413 local reply's response_headers after a BUFFERED body Envoy refused (§2.3, §9 scenario 6)", async () => {
    const errorsBefore = await meshrasp.admin.streamErrors();
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.BUFFERED });
    expectContinue(await stream.exchange(postRequest("/api/import", JSON_TYPE, 5 * 1024 * 1024)), "requestHeaders");
    const payloadTooLarge = responseHeaders(413, [["content-type", "text/plain"], ["content-length", "17"]], false);
    expectContinue(await stream.exchange(payloadTooLarge), "responseHeaders");
    stream.closeLikeEnvoy();
    expect(await meshrasp.admin.metricSettlesAt("meshrasp_open_streams", 0)).toBe(0);
    expect(await meshrasp.admin.streamErrors()).toBe(errorsBefore);
  });

  it("answers a 101 for a WebSocket upgrade whose headers said end_of_stream: false and no body came (§1.1)", async () => {
    const errorsBefore = await meshrasp.admin.streamErrors();
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.STREAMED });
    const upgrade = requestHeaders({
      method: "GET",
      path: "/live/orders",
      endOfStream: false,
      headers: [["connection", "Upgrade"], ["upgrade", "websocket"], ["sec-websocket-version", "13"], ["sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="]],
    });
    expectContinue(await stream.exchange(upgrade), "requestHeaders");
    expectContinue(await stream.exchange(responseHeaders(101, [["upgrade", "websocket"], ["connection", "Upgrade"]], false)), "responseHeaders");
    stream.closeLikeEnvoy();
    expect(await meshrasp.admin.metricSettlesAt("meshrasp_open_streams", 0)).toBe(0);
    expect(await meshrasp.admin.streamErrors()).toBe(errorsBefore);
  });
});

describe("BUFFERED_PARTIAL request body (§2.5)", () => {
  it("allows a complete benign body (end_of_stream: true)", async () => {
    const body = "username=alice&remember=on";
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.BUFFERED_PARTIAL });
    expectContinue(await stream.exchange(postRequest("/login", FORM_TYPE, body.length)), "requestHeaders");
    expectContinue(await stream.exchange(requestBody(body, true)), "requestBody");
    expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
    stream.closeLikeEnvoy();
  });

  it("denies an attack inside the buffered part of a body truncated at the limit (end_of_stream: false)", async () => {
    const requestId = newRequestId();
    const inspected = `comment=%3Cscript%3Ealert%281%29%3C%2Fscript%3E&padding=${"a".repeat(4096)}`;
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.BUFFERED_PARTIAL });
    expectContinue(await stream.exchange(postRequest("/comments", FORM_TYPE, inspected.length * 4, requestId)), "requestHeaders");
    expectDeny(await stream.exchange(requestBody(inspected, false)), { requestId });
    stream.closeLikeEnvoy();
  });

  it("gives exactly one answer to a truncated benign body: a request_body answer or a deny, never a streamed one", async () => {
    const inspected = `username=alice&bio=${"lorem ipsum ".repeat(400)}`;
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.BUFFERED_PARTIAL });
    expectContinue(await stream.exchange(postRequest("/profile", FORM_TYPE, inspected.length * 4)), "requestHeaders");
    const answer = await stream.exchange(requestBody(inspected, false));
    expect(["requestBody", "immediateResponse"]).toContain(answer.response?.$case);
    if (answer.response?.$case === "requestBody") {
      expect(answer.response.value.response?.bodyMutation?.mutation?.$case).not.toBe("streamedResponse");
    }
    expect(await stream.unreadAnswersAfter(100)).toEqual([]);
    stream.closeLikeEnvoy();
  });
});

describe("all six phases on one stream", () => {
  it("answers each with its own oneof member, in order (BUFFERED both ways, trailers SEND)", async () => {
    const body = '{"name":"Widget","qty":3}';
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.BUFFERED, responseBodyMode: BodyMode.BUFFERED });
    expectContinue(await stream.exchange(postRequest("/api/orders", JSON_TYPE, body.length)), "requestHeaders");
    expectContinue(await stream.exchange(requestBody(body, false)), "requestBody");
    expectAnswer(await stream.exchange(requestTrailers([["x-checksum", "abc123"]])), "requestTrailers");
    expectContinue(await stream.exchange(responseHeaders(201, [["content-type", JSON_TYPE]], false)), "responseHeaders");
    expectContinue(await stream.exchange(responseBody('{"id":17}', false)), "responseBody");
    expectAnswer(await stream.exchange(responseTrailers([["grpc-status", "0"]])), "responseTrailers");
    expect(stream.answers).toHaveLength(6);
    expect(await stream.unreadAnswersAfter(100)).toEqual([]);
    stream.closeLikeEnvoy();
  });
});
