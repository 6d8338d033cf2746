/**
 * FULL_DUPLEX_STREAMED (envoy-ext-proc.md §2.6, §1.3 accepted answers, §3.4): Envoy sends headers, every chunk and
 * trailers without waiting; the server answers the headers, then forwards the bytes as `streamed_response` chunks.
 */
import { describe, expect, it } from "vitest";
import type { ProcessingResponse } from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { expectAnswer, expectContinue, expectDeny, expectStreamedChunk } from "./answer-checks.js";
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
const duplexRequest = { requestBodyMode: BodyMode.FULL_DUPLEX_STREAMED } as const;

/** Bytes no text decoder would round-trip, so a server that stringifies the body is caught. */
const BINARY = Buffer.from(Array.from({ length: 3 * 160 }, (_, i) => (i % 2 === 0 ? 0x80 + (i % 128) : i % 32)));
const BINARY_CHUNKS = [BINARY.subarray(0, 160), BINARY.subarray(160, 320), BINARY.subarray(320)];

/** Reads answers until `isLast` holds for one; returns them all, that one included. */
async function readDuplexAnswers(stream: EnvoyStream, isLast: (answer: ProcessingResponse) => boolean): Promise<ProcessingResponse[]> {
  const answers: ProcessingResponse[] = [];
  while (answers.length === 0 || !isLast(answers.at(-1) as ProcessingResponse)) {
    answers.push(await stream.nextAnswer());
    expect(answers.length, "answers in one duplex direction").toBeLessThan(64);
  }
  return answers;
}

/** True for the answer that ends a duplex body: a streamed chunk with end_of_stream, or anything but a body answer. */
const endsBody =
  (phase: "requestBody" | "responseBody") =>
  (answer: ProcessingResponse): boolean => {
    const member = answer.response;
    if (member === undefined || (member.$case !== "requestBody" && member.$case !== "responseBody") || member.$case !== phase) {
      return true;
    }
    const mutation = member.value.response?.bodyMutation?.mutation;
    return mutation?.$case === "streamedResponse" && mutation.value.endOfStream;
  };

describe("FULL_DUPLEX_STREAMED request body", () => {
  it("answers the headers, then forwards exactly the input bytes, the last chunk with end_of_stream", async () => {
    const stream = meshrasp.envoy.open(duplexRequest);
    stream.send(postRequest("/upload", "application/octet-stream", BINARY.length));
    BINARY_CHUNKS.forEach((chunk, index) => stream.send(requestBody(chunk, index === BINARY_CHUNKS.length - 1)));
    expectContinue(await stream.nextAnswer(), "requestHeaders");
    const chunks = (await readDuplexAnswers(stream, endsBody("requestBody"))).map((answer) => expectStreamedChunk(answer, "requestBody"));
    expect(Buffer.concat(chunks.map((chunk) => chunk.body))).toEqual(BINARY);
    expect(chunks.map((chunk) => chunk.endOfStream)).toEqual([...chunks.slice(1).map(() => false), true]);
    expect(await stream.unreadAnswersAfter(100)).toEqual([]);
    expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
    stream.closeLikeEnvoy();
  });

  it("forwards a large body in chunks of at most 64 KiB (§2.6)", async () => {
    const large = Buffer.alloc(300 * 1024, 0x7a);
    const stream = meshrasp.envoy.open(duplexRequest);
    stream.send(postRequest("/upload", "application/octet-stream", large.length));
    for (let offset = 0; offset < large.length; offset += 30 * 1024) {
      stream.send(requestBody(large.subarray(offset, offset + 30 * 1024), offset + 30 * 1024 >= large.length));
    }
    expectContinue(await stream.nextAnswer(), "requestHeaders");
    const chunks = (await readDuplexAnswers(stream, endsBody("requestBody"))).map((answer) => expectStreamedChunk(answer, "requestBody"));
    expect(Math.max(...chunks.map((chunk) => chunk.body.length)), "largest streamed chunk").toBeLessThanOrEqual(64 * 1024);
    expect(Buffer.concat(chunks.map((chunk) => chunk.body)).equals(large)).toBe(true);
    stream.closeLikeEnvoy();
  });

  it("forwards an empty last chunk's end_of_stream (§1.1 empty bodies with end_of_stream occur)", async () => {
    const stream = meshrasp.envoy.open(duplexRequest);
    stream.send(postRequest("/upload", "application/octet-stream", 0));
    stream.send(requestBody("", true));
    expectContinue(await stream.nextAnswer(), "requestHeaders");
    const chunks = (await readDuplexAnswers(stream, endsBody("requestBody"))).map((answer) => expectStreamedChunk(answer, "requestBody"));
    expect(Buffer.concat(chunks.map((chunk) => chunk.body))).toEqual(Buffer.alloc(0));
    expect(chunks.at(-1)?.endOfStream).toBe(true);
    stream.closeLikeEnvoy();
  });

  it("answers only the headers of a body-less request (end_of_stream on the headers)", async () => {
    const stream = meshrasp.envoy.open(duplexRequest);
    stream.send(getRequest("/orders"));
    expectContinue(await stream.nextAnswer(), "requestHeaders");
    expect(await stream.unreadAnswersAfter(150)).toEqual([]);
    expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
    stream.closeLikeEnvoy();
  });

  it("with trailers: forwards the bytes without end_of_stream, then answers the trailers last", async () => {
    const stream = meshrasp.envoy.open(duplexRequest);
    stream.send(postRequest("/upload", "application/octet-stream", BINARY.length));
    BINARY_CHUNKS.forEach((chunk) => stream.send(requestBody(chunk, false)));
    stream.send(requestTrailers([["x-upload-checksum", "c0ffee"]]));
    expectContinue(await stream.nextAnswer(), "requestHeaders");
    const answers = await readDuplexAnswers(stream, (answer) => answer.response?.$case === "requestTrailers");
    const trailers = answers.pop();
    expectAnswer(trailers, "requestTrailers");
    const chunks = answers.map((answer) => expectStreamedChunk(answer, "requestBody"));
    expect(Buffer.concat(chunks.map((chunk) => chunk.body))).toEqual(BINARY);
    expect(chunks.every((chunk) => !chunk.endOfStream), "end_of_stream must stay false when trailers follow").toBe(true);
    expect(await stream.unreadAnswersAfter(100)).toEqual([]);
    stream.closeLikeEnvoy();
  });

  it("denies an attack in the body: headers answer, streamed chunks only, then one 403 and nothing after", async () => {
    const requestId = newRequestId();
    const chunks = ['{"user":"alice",', '"comment":"<script>alert(1)</script>"', "}"];
    const stream = meshrasp.envoy.open(duplexRequest);
    stream.send(postRequest("/comments", "application/json", chunks.join("").length, requestId));
    chunks.forEach((chunk, index) => stream.send(requestBody(chunk, index === chunks.length - 1)));
    expectContinue(await stream.nextAnswer(), "requestHeaders");
    const answers = await readDuplexAnswers(stream, endsBody("requestBody"));
    expectDeny(answers.pop(), { requestId });
    answers.forEach((answer) => expectStreamedChunk(answer, "requestBody"));
    expect(await stream.unreadAnswersAfter(150)).toEqual([]);
    stream.closeLikeEnvoy();
  });
});

describe("FULL_DUPLEX_STREAMED both ways at once", () => {
  it("keeps each direction's answers in order while the two directions interleave", async () => {
    const upload = ["part-1;", "part-2;", "part-3"];
    const download = ["<ok>", "stored", "</ok>"];
    const stream = meshrasp.envoy.open({ requestBodyMode: BodyMode.FULL_DUPLEX_STREAMED, responseBodyMode: BodyMode.FULL_DUPLEX_STREAMED });
    stream.send(postRequest("/sync", "text/plain", upload.join("").length));
    stream.send(requestBody(upload[0] ?? "", false));
    stream.send(okResponseHeaders());
    stream.send(requestBody(upload[1] ?? "", false));
    stream.send(responseBody(download[0] ?? "", false));
    stream.send(requestBody(upload[2] ?? "", true));
    stream.send(responseBody(download[1] ?? "", false));
    stream.send(responseBody(download[2] ?? "", true));
    const requestPath: ProcessingResponse[] = [];
    const responsePath: ProcessingResponse[] = [];
    const done = (path: ProcessingResponse[], phase: "requestBody" | "responseBody"): boolean => path.length > 1 && endsBody(phase)(path.at(-1) as ProcessingResponse);
    while (!done(requestPath, "requestBody") || !done(responsePath, "responseBody")) {
      const answer = await stream.nextAnswer();
      const direction = answer.response?.$case.startsWith("request") === true ? requestPath : responsePath;
      direction.push(answer);
      expect(requestPath.length + responsePath.length, "answers in all").toBeLessThan(64);
    }
    expectContinue(requestPath.shift(), "requestHeaders");
    expectContinue(responsePath.shift(), "responseHeaders");
    const forwarded = (path: ProcessingResponse[], phase: "requestBody" | "responseBody"): string =>
      Buffer.concat(path.map((answer) => expectStreamedChunk(answer, phase).body)).toString("utf8");
    expect(forwarded(requestPath, "requestBody")).toBe(upload.join(""));
    expect(forwarded(responsePath, "responseBody")).toBe(download.join(""));
    expect(await stream.unreadAnswersAfter(100)).toEqual([]);
    stream.closeLikeEnvoy();
  });

  it("answers headers then trailers for a request that has trailers but no body data", async () => {
    const stream = meshrasp.envoy.open(duplexRequest);
    stream.send(postRequest("/upload", "text/plain", 0));
    stream.send(requestTrailers([["x-done", "1"]]));
    expectContinue(await stream.nextAnswer(), "requestHeaders");
    const answers = await readDuplexAnswers(stream, (answer) => answer.response?.$case !== "requestBody");
    expectAnswer(answers.pop(), "requestTrailers");
    for (const answer of answers) expect(expectStreamedChunk(answer, "requestBody").body).toHaveLength(0);
    stream.closeLikeEnvoy();
  });
});

describe("FULL_DUPLEX_STREAMED deny on the headers", () => {
  it("answers only the deny although the whole body was already sent, and counts no stream error", async () => {
    const requestId = newRequestId();
    const errorsBefore = await meshrasp.admin.streamErrors();
    const stream = meshrasp.envoy.open(duplexRequest);
    stream.send(postRequest("/ping?host=127.0.0.1%3B%20cat%20%2Fetc%2Fpasswd", "application/octet-stream", BINARY.length, requestId));
    BINARY_CHUNKS.forEach((chunk, index) => stream.send(requestBody(chunk, index === BINARY_CHUNKS.length - 1)));
    expectDeny(await stream.nextAnswer(), { requestId });
    expect(await stream.unreadAnswersAfter(150)).toEqual([]);
    stream.closeLikeEnvoy();
    expect(await meshrasp.admin.metricSettlesAt("meshrasp_open_streams", 0)).toBe(0);
    expect(await meshrasp.admin.streamErrors()).toBe(errorsBefore);
  });
});

describe("FULL_DUPLEX_STREAMED response body", () => {
  it("forwards the response bytes as response_body streamed_response chunks", async () => {
    const page = ["<html><body>", "<h1>Orders</h1>", "</body></html>"];
    const stream = meshrasp.envoy.open({ responseBodyMode: BodyMode.FULL_DUPLEX_STREAMED });
    expectContinue(await stream.exchange(getRequest("/orders")), "requestHeaders");
    stream.send(okResponseHeaders());
    page.forEach((chunk, index) => stream.send(responseBody(chunk, index === page.length - 1)));
    expectContinue(await stream.nextAnswer(), "responseHeaders");
    const answers = await readDuplexAnswers(stream, endsBody("responseBody"));
    const chunks = answers.map((answer) => expectStreamedChunk(answer, "responseBody"));
    expect(Buffer.concat(chunks.map((chunk) => chunk.body)).toString("utf8")).toBe(page.join(""));
    expect(chunks.at(-1)?.endOfStream).toBe(true);
    stream.closeLikeEnvoy();
  });
});
