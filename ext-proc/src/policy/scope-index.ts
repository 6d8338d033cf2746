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

type Key = readonly [kind: "workload" | "namespace" | "host" | "suffix" | "segment", value: string];

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
  private readonly byKey = new Map<string, number[]>();
  private readonly suffixes = new Set<string>();
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
        if (kind === "suffix") this.suffixes.add(value);
        const key = `${kind}\u0000${value}`;
        const list = this.byKey.get(key) ?? [];
        if (list.at(-1) !== index) list.push(index);
        this.byKey.set(key, list);
      }
    });
  }

  /** The first scope (in policy order) whose match holds, or undefined. */
  find(request: RequestIdentity): T | undefined {
    let best = Number.POSITIVE_INFINITY;
    const consider = (candidates: readonly number[] | undefined): void => {
      if (candidates === undefined) return;
      for (const index of candidates) {
        if (index >= best) return;
        if (this.entries[index]!.applies(request)) {
          best = index;
          return;
        }
      }
    };
    consider(this.unindexed);
    consider(this.byKey.get(`workload\u0000${request.workload}`));
    consider(this.byKey.get(`namespace\u0000${request.namespace}`));
    consider(this.byKey.get(`host\u0000${request.host}`));
    consider(this.byKey.get(`segment\u0000${firstSegment(request.path)}`));
    if (this.suffixes.size > 0) {
      for (let dot = request.host.indexOf("."); dot !== -1; dot = request.host.indexOf(".", dot + 1)) {
        const suffix = request.host.slice(dot);
        if (this.suffixes.has(suffix)) consider(this.byKey.get(`suffix\u0000${suffix}`));
      }
    }
    return best === Number.POSITIVE_INFINITY ? undefined : this.entries[best]!.value;
  }
}
