import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { ProcessingMode_BodySendMode as BodyMode } from "../../../protos/generated/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js";
import type { ProcessingRequest, ProcessingResponse } from "../../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import type { BodyChunkInfo, Engine, Phase, Transaction, Verdict } from "../engine/types.js";
import type { ScopedPolicy } from "../policy/active-policy.js";
import { createLogger } from "../telemetry/logger.js";
import { createMetrics, type MeshraspMetrics } from "../telemetry/metrics.js";
import { ProcessingSession } from "./processing-session.js";
import { StreamError } from "./protocol-error.js";

/**
 * An engine that denies any phase whose data contains "evil", reports its time budget spent on
 * "slow", and records what it was given.
 */
class RecordingEngine implements Engine {
  readonly calls: { phase: Phase; data: string; info?: BodyChunkInfo }[] = [];
  throwOn: Phase | undefined;

  newTransaction(): Transaction {
    const verdict = (phase: Phase, data: string, info?: BodyChunkInfo): Verdict => {
      this.calls.push(info === undefined ? { phase, data } : { phase, data, info });
      if (this.throwOn === phase) throw new Error("engine exploded");
      const evil = data.includes("evil");
      return {
        action: evil ? "deny" : "allow",
        status: 403,
        score: evil ? 5 : 0,
        matches: evil
          ? [{ ruleId: "T-1", category: "test", severity: "critical", score: 5, phase, target: "x", matched: "evil" }]
          : [],
        truncated: data.includes("slow") ? ["time_budget"] : [],
      };
    };
    return {
      inspectRequestHeaders: (head) => verdict("request_headers", head.path),
      inspectRequestBody: (chunk, info) => verdict("request_body", chunk.toString(), info),
      inspectResponseHeaders: (head) => verdict("response_headers", String(head.status)),
      inspectResponseBody: (chunk, info) => verdict("response_body", chunk.toString(), info),
    };
  }
}

function scopeOf(engine: RecordingEngine, overrides: Partial<ScopedPolicy> = {}): ScopedPolicy {
  return {
    scope: "spec",
    mode: "enforce",
    engine,
    phaseBudgetMs: 50,
    onError: "deny",
    denyHeaders: [],
    inspectsBody: () => true,
    exclusions: () => [],
    monitoredRules: [],
    requestChanges: { removeHeaders: [], tagUpstream: false },
    responseChanges: { setHeaders: {}, removeHeaders: [], onLeak: "log" },
    redaction: undefined,
    ...overrides,
  };
}

/** The session, with answers that must be synchronous (no compressed bodies in these tests). */
interface SyncSession {
  readonly decisionId: string;
  handle(message: ProcessingRequest): ProcessingResponse | undefined;
  summary(): ReturnType<ProcessingSession["summary"]>;
}

function sync(s: ProcessingSession): SyncSession {
  return {
    decisionId: s.decisionId,
    summary: () => s.summary(),
    handle: (message) => {
      const answer = s.handle(message);
      if (answer instanceof Promise) throw new Error("expected a synchronous answer");
      return answer;
    },
  };
}

/** Pass `metrics` to read what the session counted. */
function session(
  engine: RecordingEngine,
  overrides: Partial<ScopedPolicy> = {},
  metrics: MeshraspMetrics = createMetrics({ processMetrics: false }),
): SyncSession {
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const scope = scopeOf(engine, overrides);
  return sync(new ProcessingSession({
    policy: { name: "t", version: "1", hash: "h", resolve: () => scope },
    metrics,
    logger: createLogger("silent", sink),
    metadataIdentity: { workload: "w", namespace: "n" },
  }));
}

function headers(path: string, endOfStream: boolean, extra: Record<string, string> = {}): ProcessingRequest["request"] {
  const all = { ":method": "POST", ":path": path, ":authority": "app", ":scheme": "http", "x-request-id": "rid-1", ...extra };
  return {
    $case: "requestHeaders",
    value: {
      headers: { headers: Object.entries(all).map(([key, v]) => ({ key, value: "", rawValue: Buffer.from(v) })) },
      attributes: {},
      endOfStream,
    },
  };
}

function body(direction: "request" | "response", text: string, endOfStream: boolean): ProcessingRequest["request"] {
  const value = { body: Buffer.from(text), endOfStream, endOfStreamWithoutMessage: false, grpcMessageCompressed: false };
  return direction === "request" ? { $case: "requestBody", value } : { $case: "responseBody", value };
}

function message(request: ProcessingRequest["request"], extra: Partial<ProcessingRequest> = {}): ProcessingRequest {
  return { request, attributes: {}, observabilityMode: false, ...extra };
}

function modes(request: BodyMode, response: BodyMode): Partial<ProcessingRequest> {
  return { protocolConfig: { requestBodyMode: request, responseBodyMode: response, sendBodyWithoutWaitingForHeaderResponse: false } };
}

describe("ProcessingSession", () => {
  it("answers request headers with a continue in the requestHeaders oneof", () => {
    const answer = session(new RecordingEngine()).handle(message(headers("/ok", true)));
    expect(answer?.response?.$case).toBe("requestHeaders");
  });

  it("denies with an immediate response carrying status, JSON body, decision id and x-request-id", () => {
    const s = session(new RecordingEngine());
    const answer = s.handle(message(headers("/evil", true)));
    expect(answer?.response?.$case).toBe("immediateResponse");
    if (answer?.response?.$case !== "immediateResponse") return;
    const reply = answer.response.value;
    expect(reply.status?.code).toBe(403);
    expect(JSON.parse(reply.body.toString())).toEqual({ error: "request blocked", id: s.decisionId });
    const set = reply.headers?.setHeaders ?? [];
    const byName = new Map(set.map((h) => [h.header?.key, h]));
    expect(byName.get("x-request-id")?.header?.rawValue.toString()).toBe("rid-1");
    expect(byName.get("content-type")?.header?.rawValue.toString()).toBe("application/json");
    for (const h of set) {
      expect(h.header?.value).toBe("");
      expect(h.append).toBe(false);
    }
    expect(reply.grpcStatus).toBeUndefined();
    expect(reply.details).toBe("meshrasp_denied:T-1");
    expect(answer.dynamicMetadata?.meshrasp).toMatchObject({ decision_id: s.decisionId, action: "deny" });
  });

  it("gives gRPC requests PERMISSION_DENIED", () => {
    const answer = session(new RecordingEngine()).handle(message(headers("/evil", true, { "content-type": "application/grpc+proto" })));
    expect(answer?.response?.$case === "immediateResponse" && answer.response.value.grpcStatus?.status).toBe(7);
  });

  it("treats the single BUFFERED body message as the whole body even without end_of_stream (trailers follow)", () => {
    const engine = new RecordingEngine();
    const s = session(engine);
    s.handle(message(headers("/ok", false), modes(BodyMode.BUFFERED, BodyMode.NONE)));
    const answer = s.handle(message(body("request", "a=1", false)));
    expect(answer?.response?.$case).toBe("requestBody");
    expect(engine.calls.at(-1)?.info).toEqual({ last: true, complete: true });
  });

  it("flags a BUFFERED_PARTIAL body without end_of_stream as possibly incomplete", () => {
    const engine = new RecordingEngine();
    const s = session(engine);
    s.handle(message(headers("/ok", false), modes(BodyMode.BUFFERED_PARTIAL, BodyMode.NONE)));
    s.handle(message(body("request", "a=1", false)));
    expect(engine.calls.at(-1)?.info).toEqual({ last: true, complete: false });
  });

  it("answers every STREAMED chunk in order and lets trailers close the body", () => {
    const engine = new RecordingEngine();
    const s = session(engine);
    s.handle(message(headers("/ok", false), modes(BodyMode.STREAMED, BodyMode.NONE)));
    const cases = ["one", "two", "three"].map((c) => s.handle(message(body("request", c, false)))?.response?.$case);
    expect(cases).toEqual(["requestBody", "requestBody", "requestBody"]);
    const trailers = s.handle(message({ $case: "requestTrailers", value: { trailers: { headers: [] } } }));
    expect(trailers?.response?.$case).toBe("requestTrailers");
    expect(engine.calls.at(-1)).toEqual({ phase: "request_body", data: "", info: { last: true, complete: true } });
  });

  it("echoes FULL_DUPLEX_STREAMED chunks as streamed_response with end_of_stream", () => {
    const s = session(new RecordingEngine());
    s.handle(message(headers("/ok", false), modes(BodyMode.FULL_DUPLEX_STREAMED, BodyMode.NONE)));
    const answer = s.handle(message(body("request", "payload", true)));
    const mutation = answer?.response?.$case === "requestBody" ? answer.response.value.response?.bodyMutation?.mutation : undefined;
    expect(mutation?.$case).toBe("streamedResponse");
    if (mutation?.$case !== "streamedResponse") return;
    expect(mutation.value.body.toString()).toBe("payload");
    expect(mutation.value.endOfStream).toBe(true);
  });

  it("accepts response_headers as the first message (a local reply)", () => {
    const header = { key: ":status", value: "", rawValue: Buffer.from("404") };
    const answer = session(new RecordingEngine()).handle(
      message({ $case: "responseHeaders", value: { headers: { headers: [header] }, attributes: {}, endOfStream: false } }),
    );
    expect(answer?.response?.$case).toBe("responseHeaders");
  });

  it("never answers in observability mode, but still inspects", () => {
    const engine = new RecordingEngine();
    const answer = session(engine).handle(message(headers("/evil", true), { observabilityMode: true }));
    expect(answer).toBeUndefined();
    expect(engine.calls).toHaveLength(1);
  });

  it("does not deny in monitor mode, and tells Envoy the deny was only logged", () => {
    const s = session(new RecordingEngine(), { mode: "monitor" });
    const answer = s.handle(message(headers("/evil", true)));
    expect(answer?.response?.$case).toBe("requestHeaders");
    expect(answer?.dynamicMetadata?.meshrasp).toMatchObject({ action: "log", rules: "T-1" });
    // What a stream_error log line would say of it.
    expect(s.summary().action).toBe("log");
  });

  it("adds the policy's deny headers", () => {
    const answer = session(new RecordingEngine(), { denyHeaders: [["x-blocked-by", "meshrasp"]] }).handle(message(headers("/evil", true)));
    const set = answer?.response?.$case === "immediateResponse" ? answer.response.value.headers?.setHeaders : [];
    expect(set?.find((h) => h.header?.key === "x-blocked-by")?.header?.rawValue.toString()).toBe("meshrasp");
  });

  it("skips bodies of content types the policy does not inspect", () => {
    const engine = new RecordingEngine();
    const s = session(engine, { inspectsBody: (type) => type === "application/json" });
    s.handle(message(headers("/ok", false, { "content-type": "image/png" }), modes(BodyMode.BUFFERED, BodyMode.NONE)));
    expect(s.handle(message(body("request", "evil", true)))?.response?.$case).toBe("requestBody");
    expect(engine.calls.map((c) => c.phase)).toEqual(["request_headers"]);
  });

  it("resolves the scope with the request's host, path and method", () => {
    const seen: unknown[] = [];
    const engine = new RecordingEngine();
    const sink = new Writable({ write: (_c, _e, cb) => cb() });
    const s = new ProcessingSession({
      policy: {
        name: "t", version: "1", hash: "h",
        resolve: (request) => {
          seen.push(request);
          return scopeOf(engine, { scope: "x" });
        },
      },
      metrics: createMetrics({ processMetrics: false }),
      logger: createLogger("silent", sink),
      metadataIdentity: { workload: "checkout", namespace: "shop" },
    });
    s.handle(message(headers("/cart/add?id=1", true, { ":authority": "Shop.Example:8443" })));
    expect(seen).toEqual([{ workload: "checkout", namespace: "shop", host: "shop.example", path: "/cart/add", method: "POST" }]);
  });

  it("counts a time-budget truncation that fails the stream closed before any decision is recorded", async () => {
    const metrics = createMetrics({ processMetrics: false });
    const s = session(new RecordingEngine(), {}, metrics);
    expect(() => s.handle(message(headers("/slow", true)))).toThrow(expect.objectContaining({ code: "inspection_timeout" }));
    const counted = (await metrics.truncations.get()).values.find((v) => v.labels.reason === "time_budget");
    expect(counted?.value).toBe(1);
  });

  it("removes forbidden and spoofed x-meshrasp-* request headers and tags the decision upstream", () => {
    const s = session(new RecordingEngine(), { requestChanges: { removeHeaders: ["x-internal-user"], tagUpstream: true } });
    const answer = s.handle(message(headers("/ok", true, { "x-meshrasp-score": "0", "x-internal-user": "admin" })));
    const mutation = answer?.response?.$case === "requestHeaders" ? answer.response.value.response?.headerMutation : undefined;
    expect(mutation?.removeHeaders.sort()).toEqual(["x-internal-user", "x-meshrasp-score"]);
    const set = new Map(mutation?.setHeaders.map((h) => [h.header?.key, h.header?.rawValue.toString()]));
    expect(set.get("x-meshrasp-decision")).toBe(s.decisionId);
    expect(set.get("x-meshrasp-score")).toBe("0");
    expect(set.get("x-meshrasp-categories")).toBe("none");
    for (const h of mutation?.setHeaders ?? []) expect(h.append).toBe(false);
  });

  it("brings the tags up to date in a BUFFERED body answer, where headers are still held", () => {
    const engine = new RecordingEngine();
    const s = session(engine, { requestChanges: { removeHeaders: [], tagUpstream: true }, mode: "monitor" });
    s.handle(message(headers("/ok", false), modes(BodyMode.BUFFERED, BodyMode.NONE)));
    const answer = s.handle(message(body("request", "evil", true)));
    const mutation = answer?.response?.$case === "requestBody" ? answer.response.value.response?.headerMutation : undefined;
    const set = new Map(mutation?.setHeaders.map((h) => [h.header?.key, h.header?.rawValue.toString()]));
    expect(set.get("x-meshrasp-score")).toBe("5");
    expect(set.get("x-meshrasp-categories")).toBe("test");
  });

  it("applies response header hygiene", () => {
    const s = session(new RecordingEngine(), {
      responseChanges: { setHeaders: { "x-content-type-options": "nosniff" }, removeHeaders: ["server"], onLeak: "log" },
    });
    const header = { key: ":status", value: "", rawValue: Buffer.from("200") };
    const answer = s.handle(message({ $case: "responseHeaders", value: { headers: { headers: [header] }, attributes: {}, endOfStream: true } }));
    const mutation = answer?.response?.$case === "responseHeaders" ? answer.response.value.response?.headerMutation : undefined;
    expect(mutation?.removeHeaders).toEqual(["server"]);
    expect(mutation?.setHeaders.map((h) => [h.header?.key, h.header?.rawValue.toString(), h.append])).toEqual([["x-content-type-options", "nosniff", false]]);
  });

  it("asks Envoy, with a complete mode, not to send bodies the policy does not inspect", () => {
    const s = session(new RecordingEngine(), { inspectsBody: (type) => type === "application/json" });
    const answer = s.handle(message(headers("/upload", false, { "content-type": "image/png" }), modes(BodyMode.BUFFERED, BodyMode.STREAMED)));
    expect(answer?.modeOverride).toEqual({
      requestHeaderMode: 0,
      responseHeaderMode: 0,
      requestBodyMode: BodyMode.NONE,
      responseBodyMode: BodyMode.STREAMED,
      requestTrailerMode: 0,
      responseTrailerMode: 0,
    });
    const json = session(new RecordingEngine(), { inspectsBody: (type) => type === "application/json" });
    expect(json.handle(message(headers("/api", false, { "content-type": "application/json" }), modes(BodyMode.BUFFERED, BodyMode.NONE)))?.modeOverride).toBeUndefined();
    // Without protocol_config the response mode is unknown, and an override would change it.
    const old = session(new RecordingEngine(), { inspectsBody: () => false });
    expect(old.handle(message(headers("/upload", false)))?.modeOverride).toBeUndefined();
  });

  it.each([
    ["block", "immediateResponse"],
    ["log", "responseBody"],
    ["redact", "responseBody"],
  ] as const)("follows onLeak %s for a leaking response body", (onLeak, expected) => {
    const s = session(new RecordingEngine(), { responseChanges: { setHeaders: {}, removeHeaders: [], onLeak } });
    s.handle(message(headers("/ok", true), modes(BodyMode.NONE, BodyMode.BUFFERED)));
    const status = { key: ":status", value: "", rawValue: Buffer.from("200") };
    s.handle(message({ $case: "responseHeaders", value: { headers: { headers: [status] }, attributes: {}, endOfStream: false } }));
    const answer = s.handle(message(body("response", "evil stack trace", true)));
    expect(answer?.response?.$case).toBe(expected);
    if (answer?.response?.$case === "immediateResponse") {
      expect(answer.response.value.status?.code).toBe(502);
      expect(JSON.parse(answer.response.value.body.toString())).toEqual({ error: "response blocked", id: s.decisionId });
    }
  });

  it.each([
    ["image/png", BodyMode.NONE],
    ["application/octet-stream", BodyMode.NONE],
    ["application/json; charset=utf-8", undefined],
    ["application/problem+json", undefined],
    ["text/html", undefined],
    ["image/svg+xml", undefined],
  ] as const)("response body mode override for %s: %s (0 = NONE, skipped)", (type, expected) => {
    const s = session(new RecordingEngine());
    s.handle(message(headers("/ok", true), modes(BodyMode.BUFFERED, BodyMode.STREAMED)));
    const entries = [[":status", "200"], ["content-type", type]].map(([key, v]) => ({ key: key!, value: "", rawValue: Buffer.from(v!) }));
    const answer = s.handle(message({ $case: "responseHeaders", value: { headers: { headers: entries }, attributes: {}, endOfStream: false } }));
    expect(answer?.modeOverride?.responseBodyMode).toBe(expected);
    if (expected !== undefined) expect(answer?.modeOverride?.requestBodyMode).toBe(BodyMode.BUFFERED);
  });

  it("inspects nothing when the policy is off", () => {
    const engine = new RecordingEngine();
    const answer = session(engine, { mode: "off" }).handle(message(headers("/evil", true)));
    expect(answer?.response?.$case).toBe("requestHeaders");
    expect(engine.calls).toHaveLength(0);
  });

  it("sends nothing after an immediate response", () => {
    const s = session(new RecordingEngine());
    s.handle(message(headers("/evil", false)));
    expect(s.handle(message(body("request", "x", true)))).toBeUndefined();
  });

  it.each([
    ["no oneof member", [message(undefined)], "unknown_message"],
    ["request headers twice", [message(headers("/a", false)), message(headers("/a", false))], "out_of_order"],
    ["body after end_of_stream", [message(headers("/a", true)), message(body("request", "x", true))], "out_of_order"],
    ["request headers after response headers", [
      message({ $case: "responseHeaders", value: { headers: { headers: [] }, attributes: {}, endOfStream: true } }),
      message(headers("/a", true)),
    ], "out_of_order"],
  ] as const)("rejects %s with a stable code", (_name, messages, code) => {
    const s = session(new RecordingEngine());
    let caught: unknown;
    try {
      for (const m of messages) s.handle(m);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StreamError);
    expect((caught as StreamError).code).toBe(code);
  });

  it("fails closed on an engine error unless the policy fails open", () => {
    const engine = new RecordingEngine();
    engine.throwOn = "request_headers";
    expect(() => session(engine).handle(message(headers("/a", true)))).toThrowError(
      expect.objectContaining({ code: "internal_error" }) as Error,
    );
    const answer = session(engine, { onError: "allow" }).handle(message(headers("/a", true)));
    expect(answer?.response?.$case).toBe("requestHeaders");
  });
});
