/**
 * First-match scope lookup without trying every scope. Each scope is filed under one value it
 * requires (a workload, a namespace, a host, a host suffix or a first path segment); a request
 * collects the few scopes filed under its own values, plus those that require none of these, and
 * tries only them, in policy order.
 */
import type { PolicyScope } from "./policy-document.js";
import { compileConditions, type RequestIdentity, type RequestPredicate } from "./request-conditions.js";

/** `/internal/v2/x` → `internal`; `/` or `` → `` (a prefix that names no whole segment). */
function firstSegment(path: string): string {
  const end = path.indexOf("/", 1);
  return end === -1 ? path.slice(1) : path.slice(1, end);
}

/** The whole first segment a prefix requires, or undefined when it stops inside the segment. */
function requiredSegment(prefix: string): string | undefined {
  const end = prefix.indexOf("/", 1);
  return end === -1 ? undefined : prefix.slice(1, end);
}

type Kind = "workload" | "namespace" | "host" | "suffix" | "segment";
type Key = readonly [kind: Kind, value: string];

/** The keys a scope can be filed under: every value of its most selective indexable condition. */
function keysOf(match: PolicyScope["match"]): Key[] | undefined {
  if (match.workloads) return match.workloads.map((w) => ["workload", w] as const);
  if (match.hosts) {
    return match.hosts.map((h) => (h.startsWith("*.") ? (["suffix", h.slice(1).toLowerCase()] as const) : (["host", h.toLowerCase()] as const)));
  }
  if (match.namespaces) return match.namespaces.map((n) => ["namespace", n] as const);
  if (match.pathPrefixes) {
    const segments = match.pathPrefixes.map(requiredSegment);
    if (segments.every((s): s is string => s !== undefined)) return segments.map((s) => ["segment", s] as const);
  }
  return undefined;
}

export class ScopeIndex<T> {
  /** Per kind of key, the indexes of the scopes filed under each value, in policy order. */
  private readonly byKind: Readonly<Record<Kind, Map<string, number[]>>> = {
    workload: new Map(),
    namespace: new Map(),
    host: new Map(),
    suffix: new Map(),
    segment: new Map(),
  };
  private readonly unindexed: number[] = [];
  private readonly entries: { readonly applies: RequestPredicate; readonly value: T }[];

  constructor(scopes: readonly { readonly match: PolicyScope["match"]; readonly value: T }[]) {
    this.entries = scopes.map((s) => ({ applies: compileConditions(s.match), value: s.value }));
    scopes.forEach((scope, index) => {
      const keys = keysOf(scope.match);
      if (keys === undefined) {
        this.unindexed.push(index);
        return;
      }
      for (const [kind, value] of keys) {
        const byValue = this.byKind[kind];
        const list = byValue.get(value) ?? [];
        if (list.at(-1) !== index) list.push(index);
        byValue.set(value, list);
      }
    });
  }

  /** The first scope (in policy order) whose match holds, or undefined. */
  find(request: RequestIdentity): T | undefined {
    const { workload, namespace, host, suffix, segment } = this.byKind;
    let best = this.first(this.unindexed, request, Number.POSITIVE_INFINITY);
    best = this.first(workload.get(request.workload), request, best);
    best = this.first(namespace.get(request.namespace), request, best);
    best = this.first(host.get(request.host), request, best);
    best = this.first(segment.get(firstSegment(request.path)), request, best);
    if (suffix.size > 0) {
      for (let dot = request.host.indexOf("."); dot !== -1; dot = request.host.indexOf(".", dot + 1)) {
        best = this.first(suffix.get(request.host.slice(dot)), request, best);
      }
    }
    return best === Number.POSITIVE_INFINITY ? undefined : this.entries[best]!.value;
  }

  /** The first of the candidates before `best` whose match holds, else `best`: earlier scopes win. */
  private first(candidates: readonly number[] | undefined, request: RequestIdentity, best: number): number {
    if (candidates === undefined) return best;
    for (const index of candidates) {
      if (index >= best) return best;
      if (this.entries[index]!.applies(request)) return index;
    }
    return best;
  }
}
