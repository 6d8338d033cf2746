/**
 * The state of one ext_proc stream (one HTTP request), as Envoy drives it.
 *
 * Each message is handled to completion before the next one is read, so answers leave in exactly
 * the order Envoy asked, one per message, which is what Envoy requires in every body mode (STREAMED
 * pipelines chunks and matches answers first-in first-out). Inspection is synchronous; the only
 * asynchronous step, decompressing a streamed response for redaction, returns a promise and the
 * stream glue reads nothing more until it settles.
 */
import { ProcessingMode_BodySendMode } from "../../../protos/generated/envoy/extensions/filters/http/ext_proc/v3/processing_mode.js";
import type {
  HttpBody,
  HttpHeaders,
  HttpTrailers,
  ProcessingRequest,
  ProcessingResponse,
  ProtocolConfiguration,
} from "../../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import type { Budget, Phase, Transaction, Verdict } from "../engine/types.js";
import { carriesOutDeny, openTransaction, type ActivePolicy, type Direction, type ScopedPolicy } from "../policy/active-policy.js";
import { mediaType } from "../engine/media-type.js";
import { isTextType } from "../policy/media-type.js";
import { hostOf, pathOf, type RequestIdentity } from "../policy/request-conditions.js";
import type { Logger } from "../telemetry/logger.js";
import type { MeshraspMetrics } from "../telemetry/metrics.js";
import {
  continueBody,
  continueHeaders,
  continueTrailers,
  denyAnswer,
  replaceBody,
  streamedBody,
  withBodyModes,
} from "./answers.js";
import { bodyChunkInfo, bodyMode, type BodyMode } from "./body-mode.js";
import { DecisionRecord } from "./decision-record.js";
import { requestHeaderChanges, responseHeaderChanges } from "./header-changes.js";
import { EMPTY_BODY, headerMutation, headerValue, requestHead, responseHead, setHeader } from "./header-codec.js";
import { PhaseBudget } from "./phase-budget.js";
import { StreamError } from "./protocol-error.js";
import { ResponseRedaction, type ChunkRedaction } from "./response-redaction.js";
import { ShadowEvaluation } from "./shadow-evaluation.js";
import { identityFromAttributes, resolveIdentity, type PartialIdentity } from "./workload-identity.js";

/** Where one direction (request or response) of the HTTP exchange stands. */
class DirectionState {
  mode: BodyMode = "unknown";
  headersSeen = false;
  /** Body messages received so far. */
  chunks = 0;
  /** The engine has been told that no more body comes. */
  bodyDone = false;
  /** end_of_stream or trailers seen: Envoy sends nothing more for this direction. */
  ended = false;

  get bodySeen(): boolean {
    return this.chunks > 0;
  }
}

/** An answer, or its promise when a step (decompression) is asynchronous. */
type Answer = ProcessingResponse | Promise<ProcessingResponse>;

/** A blocked response becomes this generic error: the upstream's answer is withheld, not forbidden. */
const LEAK_STATUS = 502;

export interface SessionEnvironment {
  readonly policy: ActivePolicy;
  readonly metrics: MeshraspMetrics;
  readonly logger: Logger;
  /** What the stream's gRPC metadata says of the workload (the most trusted source). */
  readonly metadataIdentity: PartialIdentity;
  /** A policy evaluated on the same traffic in monitor mode only, to compare outcomes. */
  readonly shadow?: ActivePolicy | undefined;
}

export class ProcessingSession {
  private readonly request = new DirectionState();
  private readonly response = new DirectionState();
  /** Chosen at the first message, when what the policy needs to know of the request is known. */
  private scope: ScopedPolicy | undefined;
  private transaction: Transaction | undefined;
  private inspectRequestBodies = true;
  private first = true;
  /** After an immediate response Envoy stops processing; anything it still sends is not answered. */
  private finished = false;
  private grpcRequest = false;
  private shadow: ShadowEvaluation | undefined;
  /** An immediate response denied this request. */
  private denied = false;
  private protocol: ProtocolConfiguration | undefined;
  private redaction: ResponseRedaction | undefined;

  private readonly decision: DecisionRecord;

  constructor(private readonly env: SessionEnvironment) {
    this.decision = new DecisionRecord(env.metrics, env.logger, env.policy.hash);
  }

  get decisionId(): string {
    return this.decision.id;
  }

  /** A summary for the log line written when the stream ends badly. */
  summary(): ReturnType<DecisionRecord["summary"]> {
    return this.decision.summary();
  }

  /** The scope of this request; with response-first streams only the workload is known. */
  private begin(request: RequestIdentity): ScopedPolicy {
    const scope = this.env.policy.resolve(request);
    this.scope = scope;
    if (this.env.shadow !== undefined) this.shadow = new ShadowEvaluation(this.env.shadow, request);
    this.transaction = openTransaction(scope, request);
    return scope;
  }

  private identity(attributes: ProcessingRequest["attributes"], head?: { authority: string; path: string; method: string }): RequestIdentity {
    const host = head ? hostOf(head.authority) : "";
    const workload = resolveIdentity(this.env.metadataIdentity, identityFromAttributes(attributes), host);
    this.decision.setWorkload(workload);
    return {
      workload: workload.workload,
      namespace: workload.namespace,
      host,
      path: head ? pathOf(head.path) : "",
      method: head ? head.method : "",
    };
  }

  /**
   * Handles one message from Envoy and returns the answer to send, or undefined when none is owed
   * (observability mode, or after processing finished). Throws a StreamError when the stream must
   * end with a non-OK status.
   */
  handle(message: ProcessingRequest): ProcessingResponse | undefined | Promise<ProcessingResponse | undefined> {
    if (this.first) {
      this.first = false;
      const config = message.protocolConfig;
      this.protocol = config;
      if (config !== undefined) {
        this.request.mode = bodyMode(config.requestBodyMode);
        this.response.mode = bodyMode(config.responseBodyMode);
      }
    }
    const request = message.request;
    if (request === undefined) throw new StreamError("unknown_message", "ProcessingRequest has no request member set");
    if (this.scope === undefined && request.$case !== "requestHeaders") this.begin(this.identity(message.attributes));
    const answer = this.dispatch(request, message.attributes);
    return answer instanceof Promise ? answer.then((a) => this.owed(a, message)) : this.owed(answer, message);
  }

  /** The answer to send, if one is owed at all. */
  private owed(answer: ProcessingResponse, message: ProcessingRequest): ProcessingResponse | undefined {
    if (message.observabilityMode || this.finished) return undefined;
    if (answer.response?.$case === "immediateResponse") this.finished = true;
    return answer;
  }

  /** The stream ended (any way): settle the comparison with the shadow policy. */
  finish(): void {
    this.shadow?.settle(this.denied, this.decision.id, this.env.metrics, this.env.logger);
  }

  private dispatch(request: NonNullable<ProcessingRequest["request"]>, attributes: ProcessingRequest["attributes"]): Answer {
    switch (request.$case) {
      case "requestHeaders":
        return this.onRequestHeaders(request.value, attributes);
      case "requestBody":
        return this.onBody("request", request.value);
      case "requestTrailers":
        return this.onTrailers("request", request.value);
      case "responseHeaders":
        return this.onResponseHeaders(request.value);
      case "responseBody":
        return this.onBody("response", request.value);
      case "responseTrailers":
        return this.onTrailers("response", request.value);
    }
  }

  private onRequestHeaders(message: HttpHeaders, attributes: ProcessingRequest["attributes"]): Answer {
    const state = this.request;
    if (state.headersSeen || state.bodySeen || state.ended || this.response.headersSeen) {
      throw new StreamError("out_of_order", "request_headers after the request headers, body or response began");
    }
    state.headersSeen = true;
    if (message.endOfStream) this.endDirection(state);
    const head = requestHead(message.headers);
    this.decision.requestId = headerValue(head.headers, "x-request-id")?.toString("latin1");
    const contentType = headerValue(head.headers, "content-type")?.toString("latin1");
    this.grpcRequest = mediaType(contentType).startsWith("application/grpc");
    this.decision.method = head.method;
    this.decision.path = head.path;
    this.decision.authority = head.authority;
    const scope = this.begin(this.identity(attributes, head));
    this.inspectRequestBodies = scope.inspectsBody(contentType);
    const verdict = this.inspect("request_headers", (tx, budget) => tx.inspectRequestHeaders(head, budget));
    return this.answerOr(verdict, () => {
      const changes = requestHeaderChanges(scope, head.headers, () => this.decision.tags());
      const answer = continueHeaders("request", changes, this.decision.metadata(verdict, state.ended));
      return this.inspectRequestBodies || state.ended ? answer : this.skipRequestBody(answer);
    });
  }

  private onResponseHeaders(message: HttpHeaders): Answer {
    const state = this.response;
    if (state.headersSeen || state.bodySeen || state.ended) {
      throw new StreamError("out_of_order", "response_headers after the response headers or body");
    }
    state.headersSeen = true;
    if (message.endOfStream) this.endDirection(state);
    const head = responseHead(message.headers);
    const verdict = this.inspect("response_headers", (tx, budget) => tx.inspectResponseHeaders(head, budget));
    return this.answerOr(verdict, () => {
      const plan = state.ended ? undefined : this.planRedaction(head);
      // Envoy sends no response body in mode NONE: for redaction, ask for it to be streamed.
      const protocol = this.overridable();
      const override = plan !== undefined && state.mode === "none" && protocol !== undefined;
      if (override) state.mode = "streamed";
      // Headers leave before a streamed body: a body sent decoded must lose its content-encoding now.
      const streamed = plan !== undefined && state.mode !== "buffered" && state.mode !== "buffered_partial";
      const changes = this.scope === undefined ? undefined : responseHeaderChanges(this.scope, streamed ? plan.headersToRemove() : []);
      const answer = continueHeaders("response", changes, this.decision.metadata(verdict, false));
      if (override) return withBodyModes(answer, protocol.requestBodyMode, ProcessingMode_BodySendMode.STREAMED);
      const binary = !isTextType(headerValue(head.headers, "content-type")?.toString("latin1"));
      return plan === undefined && !state.ended && binary ? this.skipResponseBody(answer) : answer;
    }, "response");
  }

  /**
   * A binary response (an image, an archive) that is not redacted gives the data-leak rules
   * nothing to read: ask Envoy to stop sending its body. Only when protocol_config said what the
   * request mode is (Envoy takes both body modes from an override); Envoy honours it only with
   * allow_mode_override, and otherwise the body is inspected as usual.
   */
  private skipResponseBody(answer: ProcessingResponse): ProcessingResponse {
    const protocol = this.overridable();
    const mode = this.response.mode;
    if (protocol === undefined) return answer;
    if (mode !== "streamed" && mode !== "buffered" && mode !== "buffered_partial") return answer;
    this.response.mode = "none";
    return withBodyModes(answer, protocol.requestBodyMode, ProcessingMode_BodySendMode.NONE);
  }

  /** The redaction of this response, if the policy wants one; failing to plan follows onError. */
  private planRedaction(head: ReturnType<typeof responseHead>): ResponseRedaction | undefined {
    try {
      this.redaction = ResponseRedaction.begin(this.scope?.redaction, head);
    } catch (error) {
      this.inspectionFailed("response_headers", StreamError.from(error, "undecodable_body"));
    }
    return this.redaction;
  }

  /**
   * A response body under redaction. BUFFERED: decoded, inspected, redacted and replaced whole,
   * with content-length fixed in the same answer (Envoy still holds the headers). Chunks: each is
   * decoded, inspected and replaced by what the redactor releases; a decoding failure mid-stream
   * always ends the stream, since bytes already sent cannot be taken back.
   */
  private onRedactedResponseBody(plan: ResponseRedaction, message: HttpBody, info: { last: boolean; complete: boolean }): Answer {
    const state = this.response;
    const inspect = (plain: Buffer): Verdict | undefined =>
      this.inspect("response_body", (tx, budget) => tx.inspectResponseBody(plain, info, budget));
    // Without protocol_config a lone message that ends the body may be BUFFERED, where Envoy
    // rejects a changed length unless content-length follows; in STREAMED mode Envoy drops a
    // content-length change, so the whole-body path is right either way.
    const whole = state.mode === "buffered" || state.mode === "buffered_partial" || (state.mode === "unknown" && state.chunks === 1 && message.endOfStream);
    if (whole) {
      let plain: Buffer;
      try {
        plain = plan.decodeWhole(message.body);
      } catch (error) {
        this.inspectionFailed("response_body", StreamError.from(error, "undecodable_body"));
        return continueBody("response");
      }
      const verdict = inspect(plain);
      return this.answerOr(verdict, () => {
        const result = plan.redactWhole(plain);
        if (result === undefined) return continueBody("response", this.decision.metadata(verdict, false));
        this.decision.redactions(result.hits);
        const mutation = headerMutation([setHeader("content-length", String(result.body.length))], [...result.removeHeaders]);
        return replaceBody("response", result.body, mutation, this.decision.metadata(verdict, false));
      }, "response");
    }
    const last = message.endOfStream;
    const answerChunk = (plain: Buffer): Answer => {
      const verdict = inspect(plain);
      return this.answerOr(verdict, () => {
        const send = (redacted: ChunkRedaction): ProcessingResponse => {
          this.decision.redactions(redacted.hits);
          const metadata = this.decision.metadata(verdict, false);
          return state.mode === "full_duplex" ? streamedBody("response", redacted.body, last, metadata) : replaceBody("response", redacted.body, undefined, metadata);
        };
        const redacted = plan.redactChunk(plain, last);
        return redacted instanceof Promise ? redacted.then(send) : send(redacted);
      }, "response");
    };
    const failed = (error: unknown): never => {
      throw StreamError.from(error, "undecodable_body");
    };
    try {
      const plain = plan.decodeChunk(message.body, last);
      return plain instanceof Promise ? plain.then(answerChunk, failed) : answerChunk(plain);
    } catch (error) {
      return failed(error);
    }
  }

  private onBody(direction: Direction, message: HttpBody): Answer {
    const state = this.state(direction);
    if (state.ended || state.bodyDone) {
      throw new StreamError("out_of_order", `${direction}_body after the end of the ${direction} body`);
    }
    state.chunks += 1;
    const info = bodyChunkInfo(state.mode, message.endOfStream);
    if (info.last) state.bodyDone = true;
    if (message.endOfStream) state.ended = true;
    if (direction === "response" && this.redaction !== undefined) return this.onRedactedResponseBody(this.redaction, message, info);
    const phase: Phase = direction === "request" ? "request_body" : "response_body";
    const verdict =
      direction === "request"
        ? this.inspectRequestBodies
          ? this.inspect(phase, (tx, budget) => tx.inspectRequestBody(message.body, info, budget))
          : undefined
        : this.inspect(phase, (tx, budget) => tx.inspectResponseBody(message.body, info, budget));
    const metadata = this.decision.metadata(verdict, direction === "request" && info.last);
    return this.answerOr(verdict, () => {
      if (state.mode === "full_duplex") return streamedBody(direction, message.body, message.endOfStream, metadata);
      // Request headers are still held by Envoy in the buffered modes: the tags can be brought up to date.
      const retag = direction === "request" && this.scope?.requestChanges.tagUpstream === true && (state.mode === "buffered" || state.mode === "buffered_partial");
      return continueBody(direction, metadata, retag ? { setHeaders: this.decision.tags(), removeHeaders: [] } : undefined);
    }, direction);
  }

  private onTrailers(direction: Direction, _message: HttpTrailers): Answer {
    const state = this.state(direction);
    if (state.ended) throw new StreamError("out_of_order", `${direction}_trailers after the end of the ${direction}`);
    state.ended = true;
    let verdict: Verdict | undefined;
    if (state.bodySeen && !state.bodyDone && (direction === "response" || this.inspectRequestBodies)) {
      // Trailers close a streamed body whose last chunk could not say so (end_of_stream false).
      state.bodyDone = true;
      const phase: Phase = direction === "request" ? "request_body" : "response_body";
      const info = { last: true, complete: true };
      verdict = this.inspect(phase, (tx, budget) =>
        direction === "request"
          ? tx.inspectRequestBody(EMPTY_BODY, info, budget)
          : tx.inspectResponseBody(EMPTY_BODY, info, budget),
      );
    }
    const metadata = verdict === undefined ? undefined : this.decision.metadata(verdict, direction === "request");
    return this.answerOr(verdict, () => continueTrailers(direction, metadata), direction);
  }

  /**
   * The request's content type is not inspected: ask Envoy not to send its body at all. Envoy takes
   * both body modes from an override, so this is only done when protocol_config said what the
   * response mode is; Envoy ignores it unless allow_mode_override is set, and then the body is
   * simply passed through uninspected as it arrives.
   */
  private skipRequestBody(answer: ProcessingResponse): ProcessingResponse {
    const protocol = this.overridable();
    if (protocol === undefined) return answer;
    if (this.request.mode === "none" || this.request.mode === "full_duplex" || this.request.mode === "unknown") return answer;
    return withBodyModes(answer, ProcessingMode_BodySendMode.NONE, protocol.responseBodyMode);
  }

  /**
   * protocol_config, when a mode_override from meshrasp can be right and honoured: Envoy takes both
   * body modes from an override, so both must be known, and it ignores overrides when it sends
   * bodies without waiting for the headers answer.
   */
  private overridable(): ProtocolConfiguration | undefined {
    const protocol = this.protocol;
    return protocol === undefined || protocol.sendBodyWithoutWaitingForHeaderResponse ? undefined : protocol;
  }

  private state(direction: Direction): DirectionState {
    return direction === "request" ? this.request : this.response;
  }

  private endDirection(state: DirectionState): void {
    state.ended = true;
    state.bodyDone = true;
  }

  /**
   * A deny when the scope carries out the verdict's deny (see carriesOutDeny); otherwise the given
   * answer. A response withheld for a leak becomes a generic 502 (a clean local reply while Envoy
   * holds the response headers, a stream reset after).
   */
  private answerOr(verdict: Verdict | undefined, otherwise: () => Answer, direction: Direction = "request"): Answer {
    const scope = this.scope;
    if (scope === undefined || verdict === undefined || !carriesOutDeny(scope, verdict, direction)) return otherwise();
    this.denied = true;
    const rule = verdict.matches[0]?.ruleId ?? verdict.truncated[0] ?? "policy";
    return denyAnswer(
      {
        status: direction === "response" ? LEAK_STATUS : verdict.status,
        what: direction,
        decisionId: this.decision.id,
        requestId: this.decision.requestId,
        grpc: this.grpcRequest,
        headers: scope.denyHeaders,
        details: `meshrasp_denied:${rule}`,
      },
      this.decision.metadata(verdict, true, true),
    );
  }

  /** Runs one phase of inspection under the policy's time budget and failure behaviour. */
  private inspect(phase: Phase, run: (tx: Transaction, budget: Budget) => Verdict): Verdict | undefined {
    this.shadow?.inspect(phase, run);
    const tx = this.transaction;
    const scope = this.scope;
    if (tx === undefined || scope === undefined) return undefined;
    const started = performance.now();
    const budget = new PhaseBudget(scope.phaseBudgetMs, started);
    let verdict: Verdict;
    try {
      verdict = run(tx, budget);
    } catch (error) {
      return this.inspectionFailed(phase, StreamError.from(error));
    } finally {
      this.env.metrics.phaseDuration.observe(phase, (performance.now() - started) / 1000);
    }
    // Truncation reasons are cumulative: the budget is acted on once, in the phase that ran out.
    const newlyTruncated = this.decision.countTruncations(verdict);
    if (newlyTruncated.includes("time_budget") && verdict.action !== "deny") {
      const limit = scope.phaseBudgetMs;
      this.inspectionFailed(phase, new StreamError("inspection_timeout", `inspection of ${phase} exceeded ${limit} ms`));
    }
    this.decision.record(scope, phase, verdict);
    return verdict;
  }

  /** Fail closed (the stream ends with an error, Envoy answers 500) unless the policy fails open. */
  private inspectionFailed(phase: Phase, error: StreamError): undefined {
    if (this.scope?.onError !== "allow") throw error;
    this.env.metrics.failOpen.inc({ reason: error.code });
    this.env.logger.warn({ event: "fail_open", decision_id: this.decision.id, phase, code: error.code, err: error.message });
    return undefined;
  }
}
