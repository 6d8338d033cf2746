/**
 * STREAMED bodies: Envoy pipelines chunks without waiting and matches answers FIFO (envoy-ext-proc.md §0 lock-step
 * exception, §2.4, §2.9, §1.4 interleaving with response_headers, §9 scenario 8).
 */
import { describe, expect, it } from "vitest";
import type { ProcessingResponse } from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { expectAnswer, expectContinue, expectDeny } from "./answer-checks.js";
import {
  getRequest,
  newRequestId,
  okResponseHeaders,
  postRequest,
  requestBody,
  requestTrailers,
  responseBody,
} from "./envoy-messages.js";
import { BodyMode, type EnvoyStream } from "./fake-envoy.js";
import { useMeshrasp } from "./meshrasp-under-test.js";

const meshrasp = useMeshrasp();
const FORM_TYPE = "application/x-www-form-urlencoded";
const CHUNKS = ["username=alice", "&email=alice%40example.com", "&city=Lyon", "&zip=69001", "&remember=on"] as const;
const CONTENT_LENGTH = CHUNKS.join("").length;

/** Reads body answers until a deny or until every one of `chunkCount` chunks was answered. */
async function readUntilDeny(stream: EnvoyStream, chunkCount: number): Promise<ProcessingResponse[]> {
  const answers: ProcessingResponse[] = [];
  while (answers.length < chunkCount && answers.at(-1)?.response?.$case !== "immediateResponse") {
    answers.push(await stream.nextAnswer());
  }
  return answers;
}

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
    const answers = await readUntilDeny(stream, chunks.length);
    answers.slice(0, -1).forEach((answer) => expectContinue(answer, "requestBody"));
    expectDeny(answers.at(-1), { requestId });
    expect(await stream.unreadAnswersAfter(150)).toEqual([]);
    stream.closeLikeEnvoy();
  });
});

describe("STREAMED deny while more messages are already in flight", () => {
  it("answers nothing after the deny, although chunks and response_headers were already in flight (§1.4)", async () => {
    const requestId = newRequestId();
    const chunks = ["comment=%3Cscript%3Ealert%281%29%3C%2Fscript%3E", "&more=1", "&end=1"];
    const errorsBefore = await meshrasp.admin.streamErrors();
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.STREAMED });
    expectContinue(await stream.exchange(postRequest("/comments", FORM_TYPE, chunks.join("").length, requestId)), "requestHeaders");
    chunks.forEach((chunk, index) => stream.send(requestBody(chunk, index === chunks.length - 1)));
    stream.send(okResponseHeaders());
    const answers = await readUntilDeny(stream, chunks.length);
    answers.slice(0, -1).forEach((answer) => expectContinue(answer, "requestBody"));
    expectDeny(answers.at(-1), { requestId });
    expect(await stream.unreadAnswersAfter(150)).toEqual([]);
    stream.closeLikeEnvoy();
    expect(await meshrasp.admin.metricSettlesAt("meshrasp_open_streams", 0)).toBe(0);
    expect(await meshrasp.admin.streamErrors()).toBe(errorsBefore);
  });

  it("answers only the deny when the headers are the attack and chunks came without waiting (§2.9)", async () => {
    const requestId = newRequestId();
    const errorsBefore = await meshrasp.admin.streamErrors();
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.STREAMED, sendBodyWithoutWaitingForHeaderResponse: true });
    stream.send(postRequest("/download?file=../../../../etc/passwd", FORM_TYPE, CONTENT_LENGTH, requestId));
    CHUNKS.forEach((chunk, index) => stream.send(requestBody(chunk, index === CHUNKS.length - 1)));
    expectDeny(await stream.nextAnswer(), { requestId });
    expect(await stream.unreadAnswersAfter(150)).toEqual([]);
    stream.closeLikeEnvoy();
    expect(await meshrasp.admin.metricSettlesAt("meshrasp_open_streams", 0)).toBe(0);
    expect(await meshrasp.admin.streamErrors()).toBe(errorsBefore);
  });

  it("denies a JSON attack split across chunk boundaries (the body is one JSON document, §2.4 arbitrary boundaries)", async () => {
    const requestId = newRequestId();
    const chunks = ['{"user":"alice","comment":"<scr', 'ipt>alert(1)</scr', 'ipt>"}'];
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.STREAMED });
    expectContinue(await stream.exchange(postRequest("/comments", "application/json", chunks.join("").length, requestId)), "requestHeaders");
    chunks.forEach((chunk, index) => stream.send(requestBody(chunk, index === chunks.length - 1)));
    const answers = await readUntilDeny(stream, chunks.length);
    expectDeny(answers.at(-1), { requestId });
    stream.closeLikeEnvoy();
  });
});

describe("STREAMED volume and direction", () => {
  it("answers 200 one-byte chunks pipelined at once, one each, in order", async () => {
    const body = "a".repeat(200);
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.STREAMED });
    expectContinue(await stream.exchange(postRequest("/upload", "text/plain", body.length)), "requestHeaders");
    for (let i = 0; i < body.length; i += 1) stream.send(requestBody(body.slice(i, i + 1), i === body.length - 1));
    stream.send(okResponseHeaders());
    const cases = (await stream.nextAnswers(body.length + 1)).map((answer) => answer.response?.$case);
    expect(cases).toEqual([...Array.from({ length: body.length }, () => "requestBody"), "responseHeaders"]);
    expect(await stream.unreadAnswersAfter(100)).toEqual([]);
    stream.closeLikeEnvoy();
  });

  it("pipelines response chunks the same way (response_body_mode STREAMED)", async () => {
    const page = ["<html>", "<body>", "<p>Order 17 shipped</p>", "</body></html>"];
    const stream = meshrasp.envoy.open({ responseBodyMode: BodyMode.STREAMED });
    expectContinue(await stream.exchange(getRequest("/orders/17")), "requestHeaders");
    expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
    page.forEach((chunk, index) => stream.send(responseBody(chunk, index === page.length - 1)));
    for (const answer of await stream.nextAnswers(page.length)) expectContinue(answer, "responseBody");
    expect(await stream.unreadAnswersAfter(100)).toEqual([]);
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
