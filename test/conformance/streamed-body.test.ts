/**
 * STREAMED bodies: Envoy pipelines chunks without waiting and matches answers FIFO (envoy-ext-proc.md §0 lock-step
 * exception, §2.4, §2.9, §1.4 interleaving with response_headers, §9 scenario 8).
 */
import { describe, expect, it } from "vitest";
import { expectAnswer, expectContinue, expectDeny } from "./answer-checks.js";
import {
  newRequestId,
  okResponseHeaders,
  postRequest,
  requestBody,
  requestTrailers,
} from "./envoy-messages.js";
import { BodyMode } from "./fake-envoy.js";
import { useMeshrasp } from "./meshrasp-under-test.js";

const meshrasp = useMeshrasp();
const FORM_TYPE = "application/x-www-form-urlencoded";
const CHUNKS = ["username=alice", "&email=alice%40example.com", "&city=Lyon", "&zip=69001", "&remember=on"] as const;
const CONTENT_LENGTH = CHUNKS.join("").length;

describe("STREAMED request body", () => {
  it("answers five chunks pipelined before any answer with exactly five body answers, then the response headers", async () => {
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.STREAMED });
    expectContinue(await stream.exchange(postRequest("/signup", FORM_TYPE, CONTENT_LENGTH)), "requestHeaders");
    CHUNKS.forEach((chunk, index) => stream.send(requestBody(chunk, index === CHUNKS.length - 1)));
    for (const answer of await stream.nextAnswers(CHUNKS.length)) expectContinue(answer, "requestBody");
    expect(await stream.unreadAnswersAfter(100)).toEqual([]);
    expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
    expect(stream.answers).toHaveLength(1 + CHUNKS.length + 1);
    stream.closeLikeEnvoy();
  });

  it("keeps FIFO order when response_headers arrive between request chunks (§1.4)", async () => {
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.STREAMED });
    expectContinue(await stream.exchange(postRequest("/signup", FORM_TYPE, CONTENT_LENGTH)), "requestHeaders");
    stream.send(requestBody(CHUNKS[0], false));
    stream.send(requestBody(CHUNKS[1], false));
    stream.send(okResponseHeaders());
    stream.send(requestBody(CHUNKS[2], false));
    stream.send(requestBody(CHUNKS[3] + CHUNKS[4], true));
    const answers = await stream.nextAnswers(5);
    expect(answers.map((answer) => answer.response?.$case)).toEqual([
      "requestBody",
      "requestBody",
      "responseHeaders",
      "requestBody",
      "requestBody",
    ]);
    answers.forEach((answer, index) => expectContinue(answer, index === 2 ? "responseHeaders" : "requestBody"));
    stream.closeLikeEnvoy();
  });

  it("answers headers first, then each chunk, when Envoy sends the body without waiting for the headers answer (§2.9)", async () => {
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.STREAMED, sendBodyWithoutWaitingForHeaderResponse: true });
    stream.send(postRequest("/signup", FORM_TYPE, CONTENT_LENGTH));
    stream.send(requestBody(CHUNKS[0], false));
    stream.send(requestBody(CHUNKS[1], false));
    stream.send(requestBody(CHUNKS.slice(2).join(""), true));
    const [headers, ...bodies] = await stream.nextAnswers(4);
    expectContinue(headers, "requestHeaders");
    for (const answer of bodies) expectContinue(answer, "requestBody");
    stream.closeLikeEnvoy();
  });

  it("answers 0-byte chunks like any other (§2.4)", async () => {
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.STREAMED });
    expectContinue(await stream.exchange(postRequest("/signup", FORM_TYPE, CHUNKS[0].length)), "requestHeaders");
    stream.send(requestBody(CHUNKS[0], false));
    stream.send(requestBody("", false));
    stream.send(requestBody("", true));
    for (const answer of await stream.nextAnswers(3)) expectContinue(answer, "requestBody");
    stream.closeLikeEnvoy();
  });

  it("denies an attack in the last chunk: CONTINUE answers for earlier chunks, then one 403, then nothing", async () => {
    const requestId = newRequestId();
    const chunks = ["username=alice", "&comment=nice", "&sig=%3Cscript%3Ealert%281%29%3C%2Fscript%3E"];
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.STREAMED });
    expectContinue(await stream.exchange(postRequest("/comments", FORM_TYPE, chunks.join("").length, requestId)), "requestHeaders");
    chunks.forEach((chunk, index) => stream.send(requestBody(chunk, index === chunks.length - 1)));
    const answers: ReturnType<typeof stream.unreadAnswers> = [];
    while (answers.length < chunks.length && answers.at(-1)?.response?.$case !== "immediateResponse") {
      answers.push(await stream.nextAnswer());
    }
    answers.slice(0, -1).forEach((answer) => expectContinue(answer, "requestBody"));
    expectDeny(answers.at(-1), { requestId });
    expect(await stream.unreadAnswersAfter(150)).toEqual([]);
    stream.closeLikeEnvoy();
  });
});

describe("many pipelining streams at once on one connection", () => {
  it("each stream gets its own answers, in its own order", async () => {
    const orders = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.STREAMED });
        expectContinue(await stream.exchange(postRequest(`/signup/${i}`, FORM_TYPE, CONTENT_LENGTH)), "requestHeaders");
        const responseHeadersAt = i % CHUNKS.length;
        CHUNKS.forEach((chunk, index) => {
          if (index === responseHeadersAt) stream.send(okResponseHeaders());
          stream.send(requestBody(chunk, index === CHUNKS.length - 1));
        });
        const cases = (await stream.nextAnswers(CHUNKS.length + 1)).map((answer) => answer.response?.$case);
        stream.closeLikeEnvoy();
        return { responseHeadersAt, cases };
      }),
    );
    for (const { responseHeadersAt, cases } of orders) {
      const expected: string[] = CHUNKS.map(() => "requestBody");
      expected.splice(responseHeadersAt, 0, "responseHeaders");
      expect(cases).toEqual(expected);
    }
  });
});

describe("STREAMED request body with trailers SEND", () => {
  it("answers every chunk, the last one with end_of_stream: false, then the trailers", async () => {
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.STREAMED });
    expectContinue(await stream.exchange(postRequest("/signup", FORM_TYPE, CONTENT_LENGTH)), "requestHeaders");
    CHUNKS.forEach((chunk) => stream.send(requestBody(chunk, false)));
    for (const answer of await stream.nextAnswers(CHUNKS.length)) expectContinue(answer, "requestBody");
    expectAnswer(await stream.exchange(requestTrailers([["x-body-sha256", "9f86d081884c7d65"]])), "requestTrailers");
    expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
    stream.closeLikeEnvoy();
  });
});
