import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BodyResponse, HeadersResponse, ProcessingResponse } from "../../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { ProcessingMode_BodySendMode, ProcessingMode_HeaderSendMode } from "../../../protos/generated/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js";
import { encodeResponse } from "./response-encoding.js";

const generic = (answer: ProcessingResponse): Buffer => Buffer.from(ProcessingResponse.encode(answer).finish());

function bodyAnswer(dynamicMetadata: Record<string, unknown> | undefined): ProcessingResponse {
  return {
    response: {
      $case: "requestBody",
      value: {
        response: {
          status: 0,
          headerMutation: { setHeaders: [{ header: { key: "x-meshrasp-decision", value: "", rawValue: Buffer.from("allow") }, appendAction: 0, keepEmptyValue: false }], removeHeaders: [] },
          bodyMutation: undefined,
          trailers: undefined,
          clearRouteCache: false,
        },
      },
    },
    requestDrain: false,
    dynamicMetadata,
  };
}

/** JSON-like values the fast path writes itself: no lists. */
const plainValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.string({ unit: "binary" }),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    tie("object"),
  ),
  object: fc.dictionary(fc.string({ unit: "binary" }), tie("value"), { maxKeys: 6 }),
})).object as fc.Arbitrary<Record<string, unknown>>;

describe("encodeResponse", () => {
  it("writes what the generated encoder writes when there is no dynamic metadata", () => {
    const answer = bodyAnswer(undefined);
    expect(encodeResponse(answer)).toEqual(generic(answer));
  });

  it("writes a decision's metadata so that it decodes to the same message, in as many bytes", () => {
    const answer = bodyAnswer({
      meshrasp: { decision_id: "2783e639-3e52-4a03-9293-0336fac511dd", action: "allow", score: 0, rules: "", policy_hash: "ab".repeat(32) },
    });
    const fast = encodeResponse(answer);
    expect(fast.length).toBe(generic(answer).length);
    expect(ProcessingResponse.decode(fast)).toEqual(ProcessingResponse.decode(generic(answer)));
    expect(ProcessingResponse.decode(fast).dynamicMetadata).toEqual(answer.dynamicMetadata);
  });

  it("agrees with the generated encoder on any JSON-like metadata, lists and non-ASCII keys included", () => {
    const metadata = fc.oneof(plainValue, fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }) as fc.Arbitrary<Record<string, unknown>>);
    fc.assert(
      fc.property(metadata, (dynamicMetadata) => {
        const answer = bodyAnswer(dynamicMetadata);
        const fast = encodeResponse(answer);
        const reference = generic(answer);
        expect(fast.length).toBe(reference.length);
        expect(ProcessingResponse.decode(fast)).toEqual(ProcessingResponse.decode(reference));
      }),
      { numRuns: 1000 },
    );
  });

  it("leaves a \"__proto__\" key to the generated encoder, so both write the same message", () => {
    const answer = bodyAnswer(JSON.parse('{"meshrasp":{"__proto__":{"a":1},"action":"allow"}}') as Record<string, unknown>);
    expect(encodeResponse(answer)).toEqual(generic(answer));
  });

  it("writes long strings and keys with multi-byte length prefixes", () => {
    const answer = bodyAnswer({ ["k".repeat(200)]: { rules: "r".repeat(20_000), "é": "ü".repeat(70) } });
    const fast = encodeResponse(answer);
    expect(fast.length).toBe(generic(answer).length);
    expect(ProcessingResponse.decode(fast).dynamicMetadata).toEqual(answer.dynamicMetadata);
  });

  describe("a phase's plain continue", () => {
    const phases = ["requestHeaders", "responseHeaders", "requestBody", "responseBody"] as const;
    const plain = (phase: (typeof phases)[number]): ProcessingResponse =>
      ({ response: { $case: phase, value: { response: undefined } }, requestDrain: false }) as ProcessingResponse;
    const decision = { meshrasp: { decision_id: "2783e639-3e52-4a03-9293-0336fac511dd", action: "allow", score: 0, rules: "", policy_hash: "ab".repeat(32) } };

    it("is written byte for byte as the generated encoder writes it, with or without metadata", () => {
      for (const phase of phases) {
        expect(encodeResponse(plain(phase))).toEqual(generic(plain(phase)));
        // Encoded once: the same bytes are handed out every time.
        expect(encodeResponse(plain(phase))).toBe(encodeResponse(plain(phase)));
        const withMetadata = { ...plain(phase), dynamicMetadata: decision };
        expect(encodeResponse(withMetadata)).toEqual(generic(withMetadata));
      }
    });

    it("knows every field the messages have: a field added to the protos must be checked before the shortcut", () => {
      // plainContinue checks exactly these; a new one would be dropped from every plain continue.
      expect(Object.keys(ProcessingResponse.create())).toEqual(["response", "dynamicMetadata", "modeOverride", "requestDrain", "overrideMessageTimeout"]);
      expect(Object.keys(HeadersResponse.create())).toEqual(["response"]);
      expect(Object.keys(BodyResponse.create())).toEqual(["response"]);
    });

    it("is not taken for an answer that carries anything else", () => {
      const mode = {
        requestHeaderMode: ProcessingMode_HeaderSendMode.DEFAULT,
        responseHeaderMode: ProcessingMode_HeaderSendMode.DEFAULT,
        requestBodyMode: ProcessingMode_BodySendMode.NONE,
        responseBodyMode: ProcessingMode_BodySendMode.STREAMED,
        requestTrailerMode: ProcessingMode_HeaderSendMode.DEFAULT,
        responseTrailerMode: ProcessingMode_HeaderSendMode.DEFAULT,
      };
      const common = { status: 0, headerMutation: { setHeaders: [], removeHeaders: ["x-a"] }, bodyMutation: undefined, trailers: undefined, clearRouteCache: false };
      const extras = fc.record(
        {
          phase: fc.constantFrom(...phases, "requestTrailers" as const),
          changed: fc.boolean(),
          modeOverride: fc.constant(mode),
          requestDrain: fc.boolean(),
          overrideMessageTimeout: fc.record({ seconds: fc.integer({ min: 0, max: 10 }), nanos: fc.integer({ min: 0, max: 999_999_999 }) }),
          dynamicMetadata: fc.constant(decision),
        },
        { requiredKeys: ["phase", "changed"] },
      );
      fc.assert(
        fc.property(extras, ({ phase, changed, ...rest }) => {
          const value = phase === "requestTrailers" ? { headerMutation: changed ? common.headerMutation : undefined } : { response: changed ? common : undefined };
          const answer = { requestDrain: false, ...rest, response: { $case: phase, value } } as ProcessingResponse;
          expect(ProcessingResponse.decode(encodeResponse(answer))).toEqual(ProcessingResponse.decode(generic(answer)));
          expect(encodeResponse(answer).length).toBe(generic(answer).length);
        }),
        { numRuns: 500 },
      );
    });
  });
});
