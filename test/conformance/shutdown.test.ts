/**
 * Shutdown as Envoy sees it. envoy-ext-proc.md §1.3: a clean OK close means "let everything still pending through
 * uninspected", so a stream the server has to cut must end with a non-OK status; streams that finish within the drain
 * time get their answers as usual.
 */
import { describe, expect, it } from "vitest";
import { status as GrpcCode } from "@grpc/grpc-js";
import { expectContinue } from "./answer-checks.js";
import { getRequest, okResponseHeaders, postRequest } from "./envoy-messages.js";
import { BodyMode } from "./fake-envoy.js";
import { startMeshraspUnderTest } from "./meshrasp-under-test.js";

describe("shutdown with streams open", () => {
  it("answers streams that finish during the drain, and cuts the rest with a non-OK status", async () => {
    const server = await startMeshraspUnderTest({ drainMs: 600 });
    try {
      const finishing = server.envoy.open();
      expectContinue(await finishing.exchange(getRequest("/orders")), "requestHeaders");
      const stuck = server.envoy.open({ requestBodyMode: BodyMode.BUFFERED });
      expectContinue(await stuck.exchange(postRequest("/api/orders", "application/json", 20)), "requestHeaders");

      const stopped = server.shutdown();
      expectContinue(await finishing.exchange(okResponseHeaders()), "responseHeaders");
      finishing.closeLikeEnvoy();

      const cut = await stuck.serverEnd(5_000);
      expect(cut.code, `status of a stream cut by the shutdown (details: "${cut.details}")`).not.toBe(GrpcCode.OK);
      expect(stuck.unreadAnswers()).toEqual([]);
      await stopped;

      const late = server.envoy.open();
      late.send(getRequest("/too-late"));
      const refused = await late.serverEnd(5_000);
      expect(refused.code, "a stream opened after shutdown").not.toBe(GrpcCode.OK);
      expect(late.answers).toEqual([]);
    } finally {
      server.envoy.close();
    }
  });
});
