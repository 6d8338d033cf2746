/**
 * A response streamed through `meshrasp serve` as Envoy streams it (STREAMED mode, 64 KiB chunks),
 * with secrets planted along the way; shared by `npm run bench:redaction` and the test that keeps
 * its memory figure true (test/redaction/served-stream-memory.test.ts).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Metadata, type ClientDuplexStream } from "@grpc/grpc-js";
import { ProcessingMode_BodySendMode as BodyMode } from "../../protos/generated/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js";
import type {
  ExternalProcessorClient,
  ProcessingRequest,
  ProcessingResponse,
} from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { ROOT, rssKiB } from "../support/serve-process.js";

export { BodyMode };
/** Envoy streams what it reads from the upstream; 64 KiB unless a caller says otherwise. */
const CHUNK = 64 * 1024;
const PLANT_EVERY = 256 * 1024;
export const CARD = "4111 1111 1111 1111";
const KEY = "AKIAIOSFODNN7EXAMPLE";

/** The default policy with response redaction turned on. */
export const redactionPolicy = (): string => readFileSync(join(ROOT, "ext-proc/policies/default.yaml"), "utf8").replace(
  "  failure:",
  "  response:\n    redaction:\n      enabled: true\n  failure:",
);

const pairs = (entries: [string, string][]) => ({ headers: entries.map(([key, v]) => ({ key, value: "", rawValue: Buffer.from(v) })) });

export function open(client: ExternalProcessorClient, responseMode: BodyMode, contentType: string) {
  const stream: ClientDuplexStream<ProcessingRequest, ProcessingResponse> = client.process(new Metadata());
  const queue: ProcessingResponse[] = [];
  const waiting: ((a: ProcessingResponse) => void)[] = [];
  stream.on("data", (a: ProcessingResponse) => (waiting.length > 0 ? waiting.shift()!(a) : queue.push(a)));
  stream.on("error", () => undefined);
  const next = (): Promise<ProcessingResponse> => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((done) => waiting.push(done)));
  const send = (message: ProcessingRequest["request"], config = false): void => {
    stream.write({
      request: message,
      attributes: {},
      observabilityMode: false,
      ...(config ? { protocolConfig: { requestBodyMode: BodyMode.NONE, responseBodyMode: responseMode, sendBodyWithoutWaitingForHeaderResponse: false } } : {}),
    });
  };
  const begin = async (): Promise<void> => {
    send({ $case: "requestHeaders", value: { headers: pairs([[":method", "GET"], [":path", "/export"], [":authority", "shop"], [":scheme", "https"]]), attributes: {}, endOfStream: true } }, true);
    await next();
    send({ $case: "responseHeaders", value: { headers: pairs([[":status", "200"], ["content-type", contentType]]), attributes: {}, endOfStream: false } });
    await next();
  };
  const body = (chunk: Buffer, endOfStream: boolean): void =>
    send({ $case: "responseBody", value: { body: chunk, endOfStream, endOfStreamWithoutMessage: false, grpcMessageCompressed: false } });
  return { stream, next, begin, body };
}

export function replacement(answer: ProcessingResponse): Buffer {
  const mutation = answer.response?.$case === "responseBody" ? answer.response.value.response?.bodyMutation?.mutation : undefined;
  if (mutation?.$case === "body") return mutation.value;
  if (mutation?.$case === "clearBody") return Buffer.alloc(0);
  throw new Error(`unexpected answer ${JSON.stringify(answer.response?.$case)}`);
}

/** Filler text with a secret every PLANT_EVERY bytes; generated chunk by chunk, never whole. */
function* bodyChunks(total: number, chunk: number): Generator<Buffer> {
  const secrets = [`card ${CARD} `, `key ${KEY} `];
  let planted = 0;
  let pending = "";
  for (let sent = 0; sent < total; ) {
    while (pending.length < chunk) {
      pending += "lorem ipsum dolor sit amet ".repeat(Math.ceil((PLANT_EVERY - 40) / 27)).slice(0, PLANT_EVERY - 40);
      pending += secrets[planted % 2];
      planted += 1;
    }
    const size = Math.min(chunk, total - sent);
    yield Buffer.from(pending.slice(0, size));
    pending = pending.slice(size);
    sent += size;
  }
}

/** Streams `total` bytes through the server whose process is `pid`, watching its RSS. */
export async function streamed(client: ExternalProcessorClient, pid: number, total: number, chunk = CHUNK): Promise<{ mib: number; planted: number; leaked: number; masked: number; rssGrowthMiB: number; seconds: number }> {
  const x = open(client, BodyMode.STREAMED, "text/plain");
  await x.begin();
  const before = rssKiB(pid);
  let peak = before;
  let tail = "";
  let masked = 0;
  let leaked = 0;
  const started = performance.now();
  const chunks = bodyChunks(total, chunk);
  let current = chunks.next();
  let index = 0;
  while (!current.done) {
    const upcoming = chunks.next();
    x.body(current.value, upcoming.done === true);
    const text = tail + replacement(await x.next()).toString("latin1");
    // Count in the joined text so a secret released across two answers is seen once.
    leaked += (text.match(/4111 1111 1111 1111|AKIAIOSFODNN7EXAMPLE/g) ?? []).length;
    masked += (text.match(/card [* ]{15}1111 |key \*{20} /g) ?? []).length;
    tail = text.slice(-64);
    const tailMasked = (tail.match(/card [* ]{15}1111 |key \*{20} /g) ?? []).length;
    masked -= tailMasked;
    current = upcoming;
    index += 1;
    if (index % 16 === 0) peak = Math.max(peak, rssKiB(pid));
  }
  masked += (tail.match(/card [* ]{15}1111 |key \*{20} /g) ?? []).length;
  peak = Math.max(peak, rssKiB(pid));
  const seconds = (performance.now() - started) / 1000;
  x.stream.end();
  return { mib: total / 1048576, planted: Math.floor(total / PLANT_EVERY), leaked, masked, rssGrowthMiB: (peak - before) / 1024, seconds };
}

