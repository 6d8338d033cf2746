/**
 * Observability mode (envoy-ext-proc.md §1.1 `observability_mode`, §2.10): every message carries the flag, no
 * `protocol_config`, Envoy never waits; the server must never answer, not even a deny.
 */
import { describe, expect, it } from "vitest";
import { status as GrpcCode } from "@grpc/grpc-js";
import {
  getRequest,
  okResponseHeaders,
  postRequest,
  requestBody,
  requestTrailers,
  responseBody,
} from "./envoy-messages.js";
import { useMeshrasp } from "./meshrasp-under-test.js";

const meshrasp = useMeshrasp();

describe("observability mode", () => {
  it("never answers a benign transaction, and the stream ends without a stream error", async () => {
    const errorsBefore = await meshrasp.admin.streamErrors();
    const stream = meshrasp.envoy.open({ observability: true });
    stream.send(postRequest("/signup", "application/x-www-form-urlencoded", 24));
    stream.send(requestBody("username=alice", false));
    stream.send(requestBody("&remember=on", false));
    stream.send(requestTrailers([["x-checksum", "abc"]]));
    stream.send(okResponseHeaders());
    stream.send(responseBody("<html></html>", true));
    expect(await stream.unreadAnswersAfter(300)).toEqual([]);
    // After deferred_close_timeout Envoy closes its side; a clean end from the server is fine, an error is not.
    stream.halfClose();
    expect(await stream.unreadAnswersAfter(200)).toEqual([]);
    expect(stream.endSoFar()?.code ?? GrpcCode.OK).toBe(GrpcCode.OK);
    stream.cancel();
    expect(stream.answers).toEqual([]);
    expect(await meshrasp.admin.metricSettlesAt("meshrasp_open_streams", 0)).toBe(0);
    expect(await meshrasp.admin.streamErrors()).toBe(errorsBefore);
  });

  it("never answers, not even with a deny, when the request is an attack", async () => {
    const stream = meshrasp.envoy.open({ observability: true });
    stream.send(getRequest("/search?q=1'%20OR%20'1'%3D'1", undefined, [["user-agent", "() { :; }; /bin/cat /etc/passwd"]]));
    stream.send(okResponseHeaders());
    expect(await stream.unreadAnswersAfter(300)).toEqual([]);
    expect(stream.endSoFar()).toBeUndefined();
    stream.closeLikeEnvoy();
  });

  it("never answers when the first message is response_headers", async () => {
    const stream = meshrasp.envoy.open({ observability: true });
    stream.send(okResponseHeaders(true));
    expect(await stream.unreadAnswersAfter(200)).toEqual([]);
    expect(stream.endSoFar()).toBeUndefined();
    stream.closeLikeEnvoy();
  });
});
