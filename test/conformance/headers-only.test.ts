/**
 * Default processing mode (request and response headers SEND, bodies NONE, trailers SKIP): envoy-ext-proc.md §0
 * transcript "Headers-only WAF", §1.4 (any phase may come first), §3.6 (deny), §9 scenarios 1, 2 and 12.
 */
import { describe, expect, it } from "vitest";
import { expectContinue, expectDeny } from "./answer-checks.js";
import {
  type HeaderInput,
  getRequest,
  newRequestId,
  okResponseHeaders,
  requestBody,
  requestHeaders,
  responseBody,
  responseHeaders,
} from "./envoy-messages.js";
import { BodyMode } from "./fake-envoy.js";
import { useMeshrasp } from "./meshrasp-under-test.js";

const meshrasp = useMeshrasp();

describe("headers-only GET", () => {
  it("answers request_headers then response_headers with CONTINUE, one answer each, and nothing else", async () => {
    const errorsBefore = await meshrasp.admin.streamErrors();
    const stream = meshrasp.envoy.open();
    expectContinue(await stream.exchange(getRequest("/products/42?color=blue")), "requestHeaders");
    expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
    expect(await stream.unreadAnswersAfter(100)).toEqual([]);
    expect(stream.endSoFar(), "the server must leave the stream open for Envoy to close").toBeUndefined();
    stream.closeLikeEnvoy();
    expect(stream.answers).toHaveLength(2);
    // §0: Envoy's half-close + reset after the last answer is normal, not a stream error.
    expect(await meshrasp.admin.metricSettlesAt("meshrasp_open_streams", 0)).toBe(0);
    expect(await meshrasp.admin.streamErrors()).toBe(errorsBefore);
  });

  it("allows a header whose raw_value is not UTF-8 (§1.1)", async () => {
    const stream = meshrasp.envoy.open();
    const latin1Name = Buffer.from([0x4a, 0xfc, 0x72, 0x67, 0x65, 0x6e]);
    expectContinue(
      await stream.exchange(getRequest("/account", undefined, [["x-customer-name", latin1Name]])),
      "requestHeaders",
    );
    expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
    stream.closeLikeEnvoy();
  });

  it("takes a non-UTF-8 :path as bytes (§1.1)", async () => {
    const stream = meshrasp.envoy.open();
    const path = Buffer.concat([Buffer.from("/menu/caf"), Buffer.from([0xe9]), Buffer.from("?lang=fr")]);
    const request = requestHeaders({ method: "GET", path, endOfStream: true });
    expectContinue(await stream.exchange(request), "requestHeaders");
    stream.closeLikeEnvoy();
  });

  it("answers every message well within Envoy's default 200 ms message_timeout (§1.3, §4)", async () => {
    const latencies: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const stream = meshrasp.envoy.open();
      for (const message of [getRequest(`/products/${i}`), okResponseHeaders()]) {
        const sentAt = performance.now();
        await stream.exchange(message);
        latencies.push(performance.now() - sentAt);
      }
      stream.closeLikeEnvoy();
    }
    // p90 rather than the maximum: a shared CI machine stalls now and then, and that is not the server's doing.
    const p90 = latencies.sort((a, b) => a - b)[Math.floor(latencies.length * 0.9)] ?? Infinity;
    expect(p90, "90th percentile answer time, ms").toBeLessThan(200);
  });

  it("answers a HEAD with a 304 response the same way", async () => {
    const stream = meshrasp.envoy.open();
    const head = requestHeaders({ method: "HEAD", path: "/static/app.css", endOfStream: true, headers: [["if-none-match", '"abc"']] });
    expectContinue(await stream.exchange(head), "requestHeaders");
    expectContinue(await stream.exchange(responseHeaders(304, [["etag", '"abc"']], true)), "responseHeaders");
    stream.closeLikeEnvoy();
  });
});

describe("deny on request headers", () => {
  const attacks: readonly (readonly [string, string, HeaderInput])[] = [
    ["SQL injection in the query", "/search?q=1'%20OR%20'1'%3D'1", []],
    ["XSS in the query", "/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E", []],
    ["command injection in the query", "/ping?host=127.0.0.1%3B%20cat%20%2Fetc%2Fpasswd", []],
    ["path traversal in the query", "/download?file=../../../../etc/passwd", []],
    ["shellshock in user-agent", "/", [["user-agent", '() { :; }; /bin/bash -c "cat /etc/passwd"']]],
    ["XSS in referer", "/", [["referer", "https://evil.example/<script>alert(1)</script>"]]],
    [
      "shellshock after a non-UTF-8 byte in user-agent",
      "/",
      [["user-agent", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("() { :; }; /bin/cat /etc/passwd")])]],
    ],
  ];

  it.each(attacks)("%s: one ImmediateResponse 403 with the JSON body and x-request-id, then nothing", async (_name, path, headers) => {
    const requestId = newRequestId();
    const stream = meshrasp.envoy.open();
    expectDeny(await stream.exchange(getRequest(path, requestId, headers)), { requestId });
    expect(await stream.unreadAnswersAfter(100)).toEqual([]);
    stream.closeLikeEnvoy();
  });

  it("gives every deny its own decision id", async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 3; i += 1) {
      const requestId = newRequestId();
      const stream = meshrasp.envoy.open();
      ids.add(expectDeny(await stream.exchange(getRequest("/search?q=1'%20OR%20'1'%3D'1", requestId)), { requestId }).decisionId);
      stream.closeLikeEnvoy();
    }
    expect(ids.size).toBe(3);
  });

  it("inspects every entry of a repeated header, not only the first (§1.1 repeated headers)", async () => {
    const requestId = newRequestId();
    const stream = meshrasp.envoy.open();
    const headers: HeaderInput = [["x-forwarded-for", "10.0.0.1"], ["x-forwarded-for", "10.0.0.2"], ["user-agent", "curl/8.5.0"], ["user-agent", "() { :; }; /bin/cat /etc/passwd"]];
    expectDeny(await stream.exchange(getRequest("/", requestId, headers)), { requestId });
    stream.closeLikeEnvoy();
  });

  it("is unaffected by request attributes and forwarded dynamic metadata (§1.1)", async () => {
    const options = {
      requestAttributes: { "request.path": "/search", "source.address": "10.1.2.3:41000", "connection.mtls": true, "request.id": "r1" },
      responseAttributes: { "response.code": 200 },
      forwardedMetadata: { "envoy.filters.http.jwt_authn": { payload: { sub: "alice", scope: "read write" } } },
    };
    const allowed = meshrasp.envoy.open(options);
    expectContinue(await allowed.exchange(getRequest("/search?q=running+shoes")), "requestHeaders");
    expectContinue(await allowed.exchange(okResponseHeaders()), "responseHeaders");
    allowed.closeLikeEnvoy();
    const requestId = newRequestId();
    const denied = meshrasp.envoy.open(options);
    expectDeny(await denied.exchange(getRequest("/search?q=1'%20OR%20'1'%3D'1", requestId)), { requestId });
    denied.closeLikeEnvoy();
  });

  it.each(["application/grpc", "application/grpc+proto", "application/grpc-web+proto"])("sets grpc_status PERMISSION_DENIED for a gRPC request, content-type %s (§3.6)", async (contentType) => {
    const requestId = newRequestId();
    const stream = meshrasp.envoy.open();
    const grpcCall = requestHeaders({
      method: "POST",
      path: "/shop.v1.Catalog/Search",
      scheme: "http",
      requestId,
      endOfStream: false,
      headers: [
        ["content-type", contentType],
        ["te", "trailers"],
        ["user-agent", '() { :; }; /bin/bash -c "cat /etc/passwd"'],
      ],
    });
    expectDeny(await stream.exchange(grpcCall), { requestId, grpc: true });
    stream.closeLikeEnvoy();
  });

  it("allows benign requests that merely look busy", async () => {
    for (const path of ["/search?q=running+shoes&page=2", "/blog/2026/11/how-to-choose-a-plan", "/api/v1/users/7/orders?sort=-date"]) {
      const stream = meshrasp.envoy.open();
      expectContinue(await stream.exchange(getRequest(path)), "requestHeaders");
      stream.closeLikeEnvoy();
    }
  });
});

describe("any phase may come first (§1.4)", () => {
  it("answers response_headers of a local reply when it is the stream's first message", async () => {
    const stream = meshrasp.envoy.open();
    const localReply = responseHeaders(403, [["content-type", "text/plain"], ["content-length", "19"]], false);
    expectContinue(await stream.exchange(localReply), "responseHeaders");
    expect(await stream.unreadAnswersAfter(100)).toEqual([]);
    stream.closeLikeEnvoy();
  });

  it("answers a request_body first message when request headers are skipped (STREAMED)", async () => {
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.STREAMED });
    expectContinue(await stream.exchange(requestBody("hello=world", true)), "requestBody");
    expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
    stream.closeLikeEnvoy();
  });

  it("answers a first response_headers whose body is BUFFERED, then the body", async () => {
    const stream = meshrasp.envoy.open({ responseBodyMode: BodyMode.BUFFERED });
    expectContinue(await stream.exchange(responseHeaders(404, [["content-type", "text/plain"]], false)), "responseHeaders");
    expectContinue(await stream.exchange(responseBody("Not Found", true)), "responseBody");
    stream.closeLikeEnvoy();
  });
});
