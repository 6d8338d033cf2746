/**
 * What Envoy accepts from a processor (envoy-ext-proc.md §1.2, §1.3, §3) and what meshrasp promises on top
 * (issue 2: deny format, `raw_value` only, explicit `append`), as assertions on decoded answers.
 */
import { expect } from "vitest";
import type { HeaderValueOption } from "../../protos/generated/envoy/config/core/v3/base.js";
import {
  CommonResponse_ResponseStatus,
  type CommonResponse,
  type HeaderMutation,
  type ImmediateResponse,
  type ProcessingResponse,
} from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";

type AnswerMember = NonNullable<ProcessingResponse["response"]>;
export type AnswerCase = AnswerMember["$case"];
type AnswerValue<C extends AnswerCase> = Extract<AnswerMember, { $case: C }>["value"];
type PhaseCase = "requestHeaders" | "responseHeaders" | "requestBody" | "responseBody";

/** Ways an answer would be rejected or misread by Envoy; empty when Envoy takes it as intended. */
export function envoyViolations(answer: ProcessingResponse): string[] {
  const problems: string[] = [];
  const member = answer.response;
  if (member === undefined) return ["no oneof member set (Envoy: unhandled_message, §1.3)"];
  const mutations: HeaderMutation[] = [];
  switch (member.$case) {
    case "immediateResponse": {
      const code = member.value.status?.code;
      if (code === undefined || code < 200) problems.push(`ImmediateResponse.status is ${code} (Envoy sends 200, §3.6)`);
      if (member.value.headers !== undefined) mutations.push(member.value.headers);
      break;
    }
    case "requestTrailers":
    case "responseTrailers":
      if (member.value.headerMutation !== undefined) mutations.push(member.value.headerMutation);
      break;
    case "streamedImmediateResponse":
      break;
    default: {
      const mutation = member.value.response?.headerMutation;
      if (mutation !== undefined) mutations.push(mutation);
    }
  }
  for (const option of mutations.flatMap((mutation) => mutation.setHeaders)) problems.push(...headerOptionViolations(option));
  if (answer.overrideMessageTimeout !== undefined) problems.push("override_message_timeout makes Envoy ignore the answer (§1.2)");
  return problems;
}

function headerOptionViolations(option: HeaderValueOption): string[] {
  const key = option.header?.key ?? "<no header>";
  const problems: string[] = [];
  if (option.header === undefined) problems.push("HeaderValueOption without header");
  if (option.header !== undefined && option.header.value !== "") problems.push(`${key}: value string set (must stay empty, §3.2)`);
  if (option.append === undefined) problems.push(`${key}: append not set explicitly`);
  if (option.header !== undefined && /[\r\n\0]/.test(option.header.rawValue.toString("latin1"))) {
    problems.push(`${key}: CR, LF or NUL in raw_value (Envoy 500, §3.2)`);
  }
  return problems;
}

/** Asserts the oneof member and that Envoy would accept the answer; returns the member's value. */
export function expectAnswer<C extends AnswerCase>(answer: ProcessingResponse | undefined, expected: C): AnswerValue<C> {
  expect(answer?.response?.$case, "oneof member of the answer").toBe(expected);
  expect(envoyViolations(answer ?? { requestDrain: false })).toEqual([]);
  return (answer?.response as unknown as { value: AnswerValue<C> }).value;
}

/** An allow: the matching phase's member, CONTINUE, nothing replaced (issue 2). */
export function expectContinue(answer: ProcessingResponse | undefined, phase: PhaseCase): CommonResponse | undefined {
  const common = expectAnswer(answer, phase).response;
  expect(common?.status ?? CommonResponse_ResponseStatus.CONTINUE, `${phase} answer status`).toBe(
    CommonResponse_ResponseStatus.CONTINUE,
  );
  expect(common?.bodyMutation?.mutation, `${phase} answer must not rewrite the body`).toBeUndefined();
  return common;
}

/** The header a mutation sets under `name`, asserting it is set exactly once. */
export function setHeader(mutation: HeaderMutation | undefined, name: string): HeaderValueOption {
  const matching = (mutation?.setHeaders ?? []).filter((option) => option.header?.key.toLowerCase() === name);
  expect(matching, `set_headers entries for ${name}`).toHaveLength(1);
  return matching[0] as HeaderValueOption;
}

export interface DenyExpectation {
  /** The request's `x-request-id`, which must come back as a response header. */
  readonly requestId: string;
  /** gRPC requests must also carry `grpc_status` PERMISSION_DENIED. */
  readonly grpc?: boolean;
}

/** A deny by the default policy (issue 2): 403, JSON body with a decision id, headers in raw_value. */
export function expectDeny(answer: ProcessingResponse | undefined, expectation: DenyExpectation): { decisionId: string } {
  const reply: ImmediateResponse = expectAnswer(answer, "immediateResponse");
  expect(reply.status?.code, "deny status").toBe(403);
  const contentType = setHeader(reply.headers, "content-type");
  expect(contentType.header?.rawValue.toString("latin1")).toMatch(/^application\/json(;|$)/);
  // Overwrite, not append: Envoy's local reply already carries content-type: text/plain (§3.6).
  expect(contentType.append, "content-type append").toBe(false);
  const requestId = setHeader(reply.headers, "x-request-id");
  expect(requestId.header?.rawValue).toEqual(Buffer.from(expectation.requestId, "latin1"));
  const body: unknown = JSON.parse(reply.body.toString("utf8"));
  expect(body).toEqual({ error: "request blocked", id: expect.any(String) });
  const decisionId = (body as { id: string }).id;
  expect(decisionId.length, "decision id length").toBeGreaterThan(0);
  if (expectation.grpc === true) expect(reply.grpcStatus?.status, "grpc_status").toBe(7);
  return { decisionId };
}

/** The bytes a FULL_DUPLEX_STREAMED answer forwards, and its end_of_stream flag (§2.6). */
export function expectStreamedChunk(
  answer: ProcessingResponse | undefined,
  phase: "requestBody" | "responseBody",
): { body: Buffer; endOfStream: boolean } {
  const common = expectAnswer(answer, phase).response;
  expect(common?.status ?? CommonResponse_ResponseStatus.CONTINUE).toBe(CommonResponse_ResponseStatus.CONTINUE);
  const mutation = common?.bodyMutation?.mutation;
  expect(mutation?.$case, "body_mutation member in FULL_DUPLEX_STREAMED").toBe("streamedResponse");
  const streamed = (mutation as Extract<NonNullable<typeof mutation>, { $case: "streamedResponse" }>).value;
  return { body: streamed.body, endOfStream: streamed.endOfStream };
}
