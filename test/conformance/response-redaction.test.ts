/**
 * Response redaction through the real server, in every body mode Envoy uses, as Envoy sends it:
 * BUFFERED (one message; body replaced and content-length fixed in one answer), STREAMED (a secret
 * split across chunks is still masked), FULL_DUPLEX_STREAMED (streamed_response), compressed
 * bodies (recompressed, or sent decoded without content-encoding), a decompression bomb, and a
 * response whose body mode is NONE (meshrasp asks for it with mode_override).
 */
import { readFileSync } from "node:fs";
import { gunzipSync, gzipSync } from "node:zlib";
import { Metadata, type ClientDuplexStream } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ProcessingMode_BodySendMode as BodyMode } from "../../protos/generated/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js";
import type {
  ExternalProcessorClient,
  ProcessingRequest,
  ProcessingResponse,
} from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { policyFile, startInProcess, type InProcess } from "../support/in-process.js";
import { headerMap } from "./envoy-messages.js";
import { defaultPolicyPath } from "../../ext-proc/src/policy/policy-document.js";

const CARD = "4111 1111 1111 1111";
const AWS_KEY = "AKIAIOSFODNN7EXAMPLE";

let client: ExternalProcessorClient;

function policy(compressed: "recompress" | "identity"): string {
  return readFileSync(defaultPolicyPath(), "utf8").replace(
    "  failure:",
    ["  response:", "    redaction:", "      enabled: true", `      compressed: ${compressed}`, "      maxDecompressedBytes: 1048576", "  failure:"].join("\n"),
  );
}

async function start(compressed: "recompress" | "identity"): Promise<InProcess> {
  return startInProcess({ policyFile: policyFile(policy(compressed)), logLevel: "silent" });
}

let server: InProcess;

beforeAll(async () => {
  server = await start("recompress");
  ({ client } = server);
});

afterAll(() => server.stop());

const bodyMsg = (direction: "requestBody" | "responseBody", body: Buffer, endOfStream: boolean): ProcessingRequest => ({
  request: { $case: direction, value: { body, endOfStream, endOfStreamWithoutMessage: false, grpcMessageCompressed: false } } as ProcessingRequest["request"],
  attributes: {},
  observabilityMode: false,
});

interface Exchange {
  stream: ClientDuplexStream<ProcessingRequest, ProcessingResponse>;
  next(): Promise<ProcessingResponse>;
  status: Promise<number>;
}

function open(via = client): Exchange {
  const stream = via.process(new Metadata());
  const queue: ProcessingResponse[] = [];
  const waiting: ((a: ProcessingResponse) => void)[] = [];
  stream.on("data", (a: ProcessingResponse) => {
    const w = waiting.shift();
    if (w) w(a);
    else queue.push(a);
  });
  stream.on("error", () => undefined);
  const status = new Promise<number>((done) => stream.on("status", (s: { code: number }) => done(s.code)));
  return { stream, status, next: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((done) => waiting.push(done))) };
}

/** Request headers (GET, no body) and response headers, as Envoy sends them; returns the response headers answer. */
async function begin(x: Exchange, responseMode: BodyMode, responseHeaders: [string, string][]): Promise<ProcessingResponse> {
  x.stream.write({
    request: { $case: "requestHeaders", value: { headers: headerMap([[":method", "GET"], [":path", "/account"], [":authority", "shop"], [":scheme", "https"]]), attributes: {}, endOfStream: true } },
    attributes: {},
    observabilityMode: false,
    protocolConfig: { requestBodyMode: BodyMode.BUFFERED, responseBodyMode: responseMode, sendBodyWithoutWaitingForHeaderResponse: false },
  });
  expect((await x.next()).response?.$case).toBe("requestHeaders");
  x.stream.write({
    request: { $case: "responseHeaders", value: { headers: headerMap([[":status", "200"], ...responseHeaders]), attributes: {}, endOfStream: false } },
    attributes: {},
    observabilityMode: false,
  });
  const answer = await x.next();
  expect(answer.response?.$case).toBe("responseHeaders");
  return answer;
}

/** The bytes a body answer sends downstream in place of its chunk. */
function replacement(answer: ProcessingResponse): { bytes: Buffer; headers: Map<string, string>; removed: string[] } {
  if (answer.response?.$case !== "responseBody") throw new Error(`expected responseBody, got ${answer.response?.$case}`);
  const common = answer.response.value.response;
  const mutation = common?.bodyMutation?.mutation;
  const bytes =
    mutation?.$case === "body" ? mutation.value : mutation?.$case === "streamedResponse" ? mutation.value.body : mutation?.$case === "clearBody" ? Buffer.alloc(0) : Buffer.from("<unchanged>");
  const headers = new Map((common?.headerMutation?.setHeaders ?? []).map((h) => [h.header!.key, h.header!.rawValue.toString()]));
  return { bytes, headers, removed: common?.headerMutation?.removeHeaders ?? [] };
}

const json = JSON.stringify({ user: "ana", card: CARD, note: "x".repeat(200), key: AWS_KEY });

describe("response redaction through the server", () => {
  it("BUFFERED: replaces the body and fixes content-length in the same answer", async () => {
    const x = open();
    await begin(x, BodyMode.BUFFERED, [["content-type", "application/json"], ["content-length", String(json.length)]]);
    x.stream.write(bodyMsg("responseBody", Buffer.from(json), true));
    const { bytes, headers } = replacement(await x.next());
    const text = bytes.toString();
    expect(text).not.toContain(CARD);
    expect(text).not.toContain(AWS_KEY);
    expect(text).toContain("1111");
    expect(text).toContain('"user":"ana"');
    expect(headers.get("content-length")).toBe(String(bytes.length));
    x.stream.end();
    expect(await x.status).toBe(0);
  });

  it("BUFFERED: a body with nothing to redact passes unchanged", async () => {
    const x = open();
    await begin(x, BodyMode.BUFFERED, [["content-type", "application/json"]]);
    x.stream.write(bodyMsg("responseBody", Buffer.from('{"ok":true}'), true));
    const answer = await x.next();
    expect(answer.response?.$case === "responseBody" && answer.response.value.response?.bodyMutation).toBeFalsy();
    x.stream.end();
  });

  it("without protocol_config (older Envoy), a lone final body message is redacted whole with content-length fixed", async () => {
    const x = open();
    x.stream.write({
      request: { $case: "requestHeaders", value: { headers: headerMap([[":method", "GET"], [":path", "/account"], [":authority", "shop"], [":scheme", "https"]]), attributes: {}, endOfStream: true } },
      attributes: {},
      observabilityMode: false,
    });
    await x.next();
    x.stream.write({
      request: { $case: "responseHeaders", value: { headers: headerMap([[":status", "200"], ["content-type", "application/json"], ["content-length", String(json.length)]]), attributes: {}, endOfStream: false } },
      attributes: {},
      observabilityMode: false,
    });
    await x.next();
    x.stream.write(bodyMsg("responseBody", Buffer.from(json), true));
    const { bytes, headers } = replacement(await x.next());
    expect(bytes.toString()).not.toContain(CARD);
    expect(headers.get("content-length")).toBe(String(bytes.length));
    x.stream.end();
  });

  it("STREAMED: masks a card number split across chunks, answering every chunk in order", async () => {
    const x = open();
    await begin(x, BodyMode.STREAMED, [["content-type", "text/plain"]]);
    const body = Buffer.from(`payment with ${CARD} accepted; ${"y".repeat(300)} done`);
    const cut = body.indexOf("1111 1111") + 3; // inside the number
    const chunks = [body.subarray(0, cut), body.subarray(cut, cut + 5), body.subarray(cut + 5)];
    chunks.forEach((chunk, i) => x.stream.write(bodyMsg("responseBody", chunk, i === chunks.length - 1)));
    const out: Buffer[] = [];
    for (let i = 0; i < chunks.length; i += 1) out.push(replacement(await x.next()).bytes);
    const text = Buffer.concat(out).toString();
    expect(text).not.toContain(CARD);
    expect(text).toMatch(/^payment with [* ]+1111 accepted; y+ done$/);
    expect(text.length).toBe(body.length);
    x.stream.end();
    expect(await x.status).toBe(0);
  });

  it("FULL_DUPLEX_STREAMED: sends redacted bytes as streamed_response", async () => {
    const x = open();
    await begin(x, BodyMode.FULL_DUPLEX_STREAMED, [["content-type", "application/json"]]);
    x.stream.write(bodyMsg("responseBody", Buffer.from(json), true));
    const answer = await x.next();
    const mutation = answer.response?.$case === "responseBody" ? answer.response.value.response?.bodyMutation?.mutation : undefined;
    expect(mutation?.$case).toBe("streamedResponse");
    if (mutation?.$case !== "streamedResponse") return;
    expect(mutation.value.endOfStream).toBe(true);
    expect(mutation.value.body.toString()).not.toContain(AWS_KEY);
    x.stream.end();
  });

  it("asks Envoy to stream a response body it would not send (mode NONE)", async () => {
    const x = open();
    const answer = await begin(x, BodyMode.NONE, [["content-type", "application/json"]]);
    expect(answer.modeOverride?.responseBodyMode).toBe(BodyMode.STREAMED);
    expect(answer.modeOverride?.requestBodyMode).toBe(BodyMode.BUFFERED);
    x.stream.write(bodyMsg("responseBody", Buffer.from(json), true));
    expect(replacement(await x.next()).bytes.toString()).not.toContain(CARD);
    x.stream.end();
  });

  it("gzip, BUFFERED: decompresses, redacts and recompresses", async () => {
    const x = open();
    await begin(x, BodyMode.BUFFERED, [["content-type", "application/json"], ["content-encoding", "gzip"]]);
    x.stream.write(bodyMsg("responseBody", gzipSync(json), true));
    const { bytes, headers, removed } = replacement(await x.next());
    const text = gunzipSync(bytes).toString();
    expect(text).not.toContain(CARD);
    expect(text).toContain('"user":"ana"');
    expect(headers.get("content-length")).toBe(String(bytes.length));
    expect(removed).not.toContain("content-encoding");
    x.stream.end();
  });

  it("gzip, STREAMED: the recompressed chunks form a gzip stream of the redacted body", async () => {
    const x = open();
    await begin(x, BodyMode.STREAMED, [["content-type", "application/json"], ["content-encoding", "gzip"]]);
    const compressed = gzipSync(json);
    const chunks = [compressed.subarray(0, 20), compressed.subarray(20, 60), compressed.subarray(60)];
    chunks.forEach((chunk, i) => x.stream.write(bodyMsg("responseBody", chunk, i === chunks.length - 1)));
    const out: Buffer[] = [];
    for (let i = 0; i < chunks.length; i += 1) out.push(replacement(await x.next()).bytes);
    const text = gunzipSync(Buffer.concat(out)).toString();
    expect(text).not.toContain(CARD);
    expect(text.length).toBe(json.length);
    x.stream.end();
    expect(await x.status).toBe(0);
  });

  it("stops a decompression bomb: the stream ends with an error, nothing is followed", async () => {
    const x = open();
    await begin(x, BodyMode.STREAMED, [["content-type", "application/json"], ["content-encoding", "gzip"]]);
    x.stream.write(bodyMsg("responseBody", gzipSync(Buffer.alloc(8 * 1024 * 1024)), true));
    expect(await x.status).toBe(13);
  });

  it.each([
    ["truncated gzip", gzipSync(json).subarray(0, 40)],
    ["a body that claims gzip and is plain text", Buffer.from(json)],
  ])("fails closed on %s (BUFFERED): the stream ends with an error", async (_name, body) => {
    const x = open();
    await begin(x, BodyMode.BUFFERED, [["content-type", "application/json"], ["content-encoding", "gzip"]]);
    x.stream.write(bodyMsg("responseBody", body, true));
    expect(await x.status).toBe(13);
  });

  it("identity mode: sends the body decoded and drops content-encoding before a streamed body", async () => {
    const other = await start("identity");
    try {
      const x = open(other.client);
      const answer = await begin(x, BodyMode.STREAMED, [["content-type", "application/json"], ["content-encoding", "gzip"]]);
      const headerAnswer = answer.response?.$case === "responseHeaders" ? answer.response.value.response?.headerMutation : undefined;
      expect(headerAnswer?.removeHeaders).toContain("content-encoding");
      x.stream.write(bodyMsg("responseBody", gzipSync(json), true));
      const text = replacement(await x.next()).bytes.toString();
      expect(text).not.toContain(CARD);
      expect(text).toContain('"user":"ana"');
      x.stream.end();
    } finally {
      await other.stop();
    }
  });
});
