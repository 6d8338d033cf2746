/**
 * A fake Envoy ext_proc filter (envoy-ext-proc.md §0–§2): one bidirectional `Process` stream per simulated HTTP
 * request, all multiplexed over one HTTP/2 connection, `metadata_context` on every message, `protocol_config` on the
 * first one only (never in observability mode), and the half-close-then-reset ending Envoy uses by default.
 */
import { Client, credentials, Metadata, status as GrpcCode } from "@grpc/grpc-js";
import type { ClientDuplexStream, StatusObject } from "@grpc/grpc-js";
import { ProcessingRequest, ProcessingResponse } from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { ProcessingMode_BodySendMode as BodyMode } from "../../protos/generated/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js";
import type { EnvoyMessage } from "./envoy-messages.js";

export { BodyMode };

const PROCESS_PATH = "/envoy.service.ext_proc.v3.ExternalProcessor/Process";
/** Generous next to Envoy's 200 ms `message_timeout`: the suite runs on a small shared machine. */
const DEFAULT_ANSWER_TIMEOUT_MS = 3_000;

export interface StreamOptions {
  readonly requestBodyMode?: BodyMode;
  readonly responseBodyMode?: BodyMode;
  readonly sendBodyWithoutWaitingForHeaderResponse?: boolean;
  /** Every message carries `observability_mode: true` and no `protocol_config` (§1.1, §2.10). */
  readonly observability?: boolean;
  /** Configured `request_attributes` values, sent once, on the first request-path message (§1.1). */
  readonly requestAttributes?: Readonly<Record<string, unknown>>;
  /** Configured `response_attributes` values, sent once, on the first response-path message. */
  readonly responseAttributes?: Readonly<Record<string, unknown>>;
  /** Dynamic metadata forwarded in `metadata_context.filter_metadata`, on every message. */
  readonly forwardedMetadata?: Readonly<Record<string, Record<string, unknown>>>;
}

const ATTRIBUTES_KEY = "envoy.filters.http.ext_proc";

/** The gRPC status that ended a stream, and whether it was the server that ended it. */
export interface StreamEnd {
  readonly code: GrpcCode;
  readonly details: string;
  readonly byServer: boolean;
}

export class FakeEnvoy {
  private readonly client: Client;
  private readonly opened: EnvoyStream[] = [];

  constructor(address: string) {
    // Envoy sends `envoy_grpc.authority` as :authority (§6.2); a plain host name like this one.
    this.client = new Client(address, credentials.createInsecure(), { "grpc.default_authority": "ext-proc.local" });
  }

  /**
   * Opens the stream for one HTTP request. The gRPC call starts at once, whereas Envoy opens it lazily with its first
   * message (§0); tests send that message right away unless an empty stream is the point.
   */
  open(options: StreamOptions = {}): EnvoyStream {
    // What `grpc_service.initial_metadata` adds to every stream (§4, §5); the server must not depend on it.
    const metadata = new Metadata();
    metadata.set("x-extproc-caller", "fake-envoy");
    const call = this.client.makeBidiStreamRequest<ProcessingRequest | Buffer, ProcessingResponse>(
      PROCESS_PATH,
      (message) => (Buffer.isBuffer(message) ? message : Buffer.from(ProcessingRequest.encode(message).finish())),
      (bytes) => ProcessingResponse.decode(bytes),
      metadata,
    );
    const stream = new EnvoyStream(call, options);
    this.opened.push(stream);
    return stream;
  }

  /** Resets every stream a test left open, so one failing test does not leave work for the next. */
  cancelAll(): void {
    for (const stream of this.opened.splice(0)) stream.cancel();
  }

  close(): void {
    this.cancelAll();
    this.client.close();
  }
}

export class EnvoyStream {
  /** Every answer received, in arrival order. */
  readonly answers: ProcessingResponse[] = [];
  private readCursor = 0;
  private firstMessage = true;
  private readonly attributesSent = { request: false, response: false };
  private cancelledByUs = false;
  private end: StreamEnd | undefined;
  private readonly wakeups = new Set<() => void>();

  constructor(
    private readonly call: ClientDuplexStream<ProcessingRequest | Buffer, ProcessingResponse>,
    private readonly options: StreamOptions,
  ) {
    call.on("data", (answer: ProcessingResponse) => {
      this.answers.push(answer);
      this.wake();
    });
    call.on("status", (status: StatusObject) => {
      this.end = { code: status.code, details: status.details, byServer: !this.cancelledByUs };
      this.wake();
    });
    // A non-OK status is also emitted as 'error'; it is read from 'status' above.
    call.on("error", () => undefined);
  }

  /** Sends one message as Envoy would, without waiting for its answer. */
  send(message: EnvoyMessage): void {
    this.call.write(this.envelope(message));
  }

  /** Sends Envoy's envelope (metadata_context, protocol_config if first) with no `request` member set. */
  sendWithoutMember(): void {
    this.call.write(this.envelope(undefined));
  }

  /** Sends bytes as they are: for messages no real Envoy would produce. */
  sendRaw(bytes: Buffer): void {
    this.firstMessage = false;
    this.call.write(bytes);
  }

  /** Lock-step: sends one message and waits for the next answer. */
  async exchange(message: EnvoyMessage, timeoutMs = DEFAULT_ANSWER_TIMEOUT_MS): Promise<ProcessingResponse> {
    this.send(message);
    return this.nextAnswer(timeoutMs);
  }

  /** The oldest answer not read yet; rejects if none arrives in time or the stream ends first. */
  async nextAnswer(timeoutMs = DEFAULT_ANSWER_TIMEOUT_MS): Promise<ProcessingResponse> {
    const answered = await this.waitFor(() => this.readCursor < this.answers.length || this.end !== undefined, timeoutMs);
    const answer = this.answers[this.readCursor];
    if (answer !== undefined) {
      this.readCursor += 1;
      return answer;
    }
    if (!answered) throw new Error(`no answer within ${timeoutMs} ms (answers so far: ${this.describeAnswers()})`);
    throw new Error(`stream ended (${this.describeEnd()}) before answer #${this.readCursor + 1}`);
  }

  /** Reads `count` answers in order. */
  async nextAnswers(count: number, timeoutMs = DEFAULT_ANSWER_TIMEOUT_MS): Promise<ProcessingResponse[]> {
    const answers: ProcessingResponse[] = [];
    for (let i = 0; i < count; i += 1) answers.push(await this.nextAnswer(timeoutMs));
    return answers;
  }

  /** Answers that arrived but were not read through `nextAnswer` yet. */
  unreadAnswers(): ProcessingResponse[] {
    return this.answers.slice(this.readCursor);
  }

  /** Waits `ms` and returns whatever answers arrived unread meanwhile (should usually be none). */
  async unreadAnswersAfter(ms: number): Promise<ProcessingResponse[]> {
    await new Promise((resolve) => setTimeout(resolve, ms));
    return this.unreadAnswers();
  }

  /** How the server ended the stream; rejects if it did not end it within the time given. */
  async serverEnd(timeoutMs = DEFAULT_ANSWER_TIMEOUT_MS): Promise<StreamEnd> {
    await this.waitFor(() => this.end !== undefined, timeoutMs);
    if (this.end === undefined) throw new Error(`the server did not end the stream within ${timeoutMs} ms`);
    if (!this.end.byServer) throw new Error("the stream was cancelled by the fake Envoy, not ended by the server");
    return this.end;
  }

  /** The end of the stream if one was seen, without waiting. */
  endSoFar(): StreamEnd | undefined {
    return this.end;
  }

  halfClose(): void {
    this.call.end();
  }

  cancel(): void {
    if (this.end === undefined) this.cancelledByUs = true;
    this.call.cancel();
  }

  /** Envoy's default ending (§0): half-close, then an immediate RST_STREAM(CANCEL). */
  closeLikeEnvoy(): void {
    this.halfClose();
    this.cancel();
  }

  private envelope(message: EnvoyMessage | undefined): ProcessingRequest {
    const observability = this.options.observability ?? false;
    const request: ProcessingRequest = {
      request: message,
      metadataContext: { filterMetadata: { ...this.options.forwardedMetadata }, typedFilterMetadata: {} },
      attributes: this.attributesFor(message),
      observabilityMode: observability,
      protocolConfig:
        this.firstMessage && !observability
          ? {
              requestBodyMode: this.options.requestBodyMode ?? BodyMode.NONE,
              responseBodyMode: this.options.responseBodyMode ?? BodyMode.NONE,
              sendBodyWithoutWaitingForHeaderResponse: this.options.sendBodyWithoutWaitingForHeaderResponse ?? false,
            }
          : undefined,
    };
    this.firstMessage = false;
    return request;
  }

  private attributesFor(message: EnvoyMessage | undefined): ProcessingRequest["attributes"] {
    if (message === undefined) return {};
    const direction = message.$case.startsWith("request") ? "request" : "response";
    const configured = direction === "request" ? this.options.requestAttributes : this.options.responseAttributes;
    if (configured === undefined || this.attributesSent[direction]) return {};
    this.attributesSent[direction] = true;
    return { [ATTRIBUTES_KEY]: { ...configured } };
  }

  private describeAnswers(): string {
    return this.answers.map((answer) => answer.response?.$case ?? "<no oneof>").join(", ") || "none";
  }

  private describeEnd(): string {
    return this.end === undefined ? "open" : `code ${this.end.code} "${this.end.details}"`;
  }

  private wake(): void {
    for (const wakeup of this.wakeups) wakeup();
  }

  /** Resolves true as soon as `ready()` holds, false after `timeoutMs`. */
  private waitFor(ready: () => boolean, timeoutMs: number): Promise<boolean> {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!ready()) return;
        finish(true);
      };
      const timer = setTimeout(() => finish(false), timeoutMs);
      const finish = (result: boolean): void => {
        clearTimeout(timer);
        this.wakeups.delete(check);
        resolve(result);
      };
      this.wakeups.add(check);
    });
  }
}
