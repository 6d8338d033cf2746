/**
 * Header changes meshrasp asks Envoy to make: headers clients must not set, decision tags for the
 * upstream, response header hygiene. Values go in `raw_value`, `append` is explicit, and nothing
 * Envoy refuses (pseudo-headers, host, x-envoy-*) is ever produced: the policy rejects those names.
 */
import type { HeaderValueOption } from "../../../protos/generated/envoy/config/core/v3/base.js";
import type { HeaderMutation } from "../../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import type { HeaderField, Verdict } from "../engine/types.js";
import type { ScopedPolicy } from "../policy/active-policy.js";
import { headerMutation, setHeader } from "./header-codec.js";

/** Headers meshrasp itself sets upstream; a client sending them is always overruled. */
const OWN_PREFIX = "x-meshrasp-";
const DECISION_HEADER = "x-meshrasp-decision";
const SCORE_HEADER = "x-meshrasp-score";
const CATEGORIES_HEADER = "x-meshrasp-categories";

/** Distinct categories of the matches so far, in first-seen order, or "none". */
function categories(seen: readonly string[]): string {
  return seen.length === 0 ? "none" : seen.join(",");
}

export function decisionTags(decisionId: string, score: number, seen: readonly string[]): HeaderValueOption[] {
  return [setHeader(DECISION_HEADER, decisionId), setHeader(SCORE_HEADER, String(score)), setHeader(CATEGORIES_HEADER, categories(seen))];
}

/**
 * The request headers answer's mutation: the policy's forbidden headers and any x-meshrasp-*
 * header the client sent removed, and (if the policy says so) the decision tagged.
 */
export function requestHeaderChanges(
  scope: ScopedPolicy,
  headers: readonly HeaderField[],
  tags: () => HeaderValueOption[],
): HeaderMutation | undefined {
  const remove = new Set(scope.requestChanges.removeHeaders);
  for (const header of headers) if (header.name.startsWith(OWN_PREFIX)) remove.add(header.name);
  const set = scope.requestChanges.tagUpstream ? tags() : [];
  if (remove.size === 0 && set.length === 0) return undefined;
  return headerMutation(set, [...remove]);
}

const responseChanges = new WeakMap<ScopedPolicy, HeaderMutation | undefined>();

/** The response headers answer's mutation, built once per scope. */
export function responseHeaderChanges(scope: ScopedPolicy, extraRemove: readonly string[] = []): HeaderMutation | undefined {
  if (extraRemove.length > 0) {
    const base = responseHeaderChanges(scope);
    return headerMutation(base?.setHeaders ?? [], [...(base?.removeHeaders ?? []), ...extraRemove]);
  }
  if (responseChanges.has(scope)) return responseChanges.get(scope);
  const { setHeaders, removeHeaders } = scope.responseChanges;
  const set = Object.entries(setHeaders).map(([name, value]) => setHeader(name, value));
  const mutation = set.length === 0 && removeHeaders.length === 0 ? undefined : headerMutation(set, [...removeHeaders]);
  responseChanges.set(scope, mutation);
  return mutation;
}

/** Categories of a verdict's matches added to those seen before, without repeats. */
export function addCategories(seen: string[], verdict: Verdict | undefined): void {
  for (const match of verdict?.matches ?? []) if (!seen.includes(match.category)) seen.push(match.category);
}
