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
 * A scope's fixed header changes, built on its first request and shared by every later one:
 * requests reuse these objects and never change them.
 */
interface ScopeChanges {
  /** Request headers the policy removes, without repeats. */
  readonly requestRemove: string[];
  /** The request mutation when there is nothing to tag and no spoofed header to remove. */
  readonly request: HeaderMutation | undefined;
  readonly response: HeaderMutation | undefined;
}

const scopeChanges = new WeakMap<ScopedPolicy, ScopeChanges>();

/** The array itself, frozen: writes to it throw (strict mode) instead of reaching other requests. */
function frozen<T>(items: T[]): T[] {
  Object.freeze(items);
  return items;
}

function changesOf(scope: ScopedPolicy): ScopeChanges {
  let changes = scopeChanges.get(scope);
  if (changes === undefined) {
    // Frozen: every answer of the scope shares these, so a change to one would reach them all.
    const requestRemove = frozen([...new Set(scope.requestChanges.removeHeaders)]);
    const { setHeaders, removeHeaders } = scope.responseChanges;
    const set = frozen(Object.entries(setHeaders).map(([name, value]) => Object.freeze(setHeader(name, value))));
    changes = {
      requestRemove,
      request: requestRemove.length === 0 ? undefined : Object.freeze(headerMutation(frozen([]), requestRemove)),
      response: set.length === 0 && removeHeaders.length === 0 ? undefined : Object.freeze(headerMutation(set, frozen([...removeHeaders]))),
    };
    scopeChanges.set(scope, changes);
  }
  return changes;
}

/**
 * The request headers answer's mutation: the policy's forbidden headers and any x-meshrasp-*
 * header the client sent removed, and (if the policy says so) the decision tagged. A request
 * that sent no x-meshrasp-* header and is not tagged gets the scope's shared mutation.
 */
export function requestHeaderChanges(
  scope: ScopedPolicy,
  headers: readonly HeaderField[],
  tags: () => HeaderValueOption[],
): HeaderMutation | undefined {
  const fixed = changesOf(scope);
  let remove: string[] | undefined;
  for (const { name } of headers) {
    if (name.startsWith(OWN_PREFIX) && !(remove ?? fixed.requestRemove).includes(name)) {
      remove ??= fixed.requestRemove.slice();
      remove.push(name);
    }
  }
  if (scope.requestChanges.tagUpstream) return headerMutation(tags(), remove ?? fixed.requestRemove);
  return remove === undefined ? fixed.request : headerMutation([], remove);
}

/** The response headers answer's mutation: the scope's shared one, unless headers are to go too. */
export function responseHeaderChanges(scope: ScopedPolicy, extraRemove: readonly string[] = []): HeaderMutation | undefined {
  const base = changesOf(scope).response;
  if (extraRemove.length === 0) return base;
  return headerMutation(base?.setHeaders ?? [], [...(base?.removeHeaders ?? []), ...extraRemove]);
}

/** Categories of a verdict's matches added to those seen before, without repeats. */
export function addCategories(seen: string[], verdict: Verdict | undefined): void {
  for (const match of verdict?.matches ?? []) if (!seen.includes(match.category)) seen.push(match.category);
}
