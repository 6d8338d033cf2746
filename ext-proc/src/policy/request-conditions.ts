/**
 * Matching a request against a policy's conditions (scopes, exclusions). Conditions are compiled
 * once into small closures: resolution runs on every request.
 */
import type { PolicyConditions } from "./policy-document.js";

/** What the policy can know of a request before inspecting it. */
export interface RequestIdentity {
  readonly workload: string;
  readonly namespace: string;
  /** Host name without port, lower case; empty when not known (e.g. a response-first stream). */
  readonly host: string;
  /** Path without the query string; empty when not known. */
  readonly path: string;
  readonly method: string;
}

export type RequestPredicate = (request: RequestIdentity) => boolean;

function oneOf(values: readonly string[] | undefined, pick: (r: RequestIdentity) => string): RequestPredicate | undefined {
  if (values === undefined) return undefined;
  const set = new Set(values);
  return (r) => set.has(pick(r));
}

function hostMatcher(hosts: readonly string[] | undefined): RequestPredicate | undefined {
  if (hosts === undefined) return undefined;
  const exact = new Set(hosts.filter((h) => !h.startsWith("*.")).map((h) => h.toLowerCase()));
  const suffixes = hosts.filter((h) => h.startsWith("*.")).map((h) => h.slice(1).toLowerCase());
  return (r) => exact.has(r.host) || suffixes.some((suffix) => r.host.endsWith(suffix) && r.host.length > suffix.length);
}

function prefixMatcher(prefixes: readonly string[] | undefined): RequestPredicate | undefined {
  if (prefixes === undefined) return undefined;
  return (r) => prefixes.some((prefix) => r.path.startsWith(prefix));
}

/** A predicate true when every listed condition holds (an empty condition set matches all). */
export function compileConditions(conditions: PolicyConditions | undefined): RequestPredicate {
  const checks = [
    oneOf(conditions?.workloads, (r) => r.workload),
    oneOf(conditions?.namespaces, (r) => r.namespace),
    hostMatcher(conditions?.hosts),
    prefixMatcher(conditions?.pathPrefixes),
    oneOf(conditions?.methods, (r) => r.method),
  ].filter((check): check is RequestPredicate => check !== undefined);
  if (checks.length === 0) return () => true;
  if (checks.length === 1) return checks[0]!;
  return (r) => checks.every((check) => check(r));
}

/** `Host: shop.example.com:8443` → `shop.example.com`; `[::1]:80` → `::1`. */
export function hostOf(authority: string): string {
  const lower = authority.toLowerCase();
  if (lower.startsWith("[")) return lower.slice(1, lower.indexOf("]") === -1 ? undefined : lower.indexOf("]"));
  const colon = lower.lastIndexOf(":");
  return colon === -1 ? lower : lower.slice(0, colon);
}

/** `/a/b?x=1` → `/a/b`. */
export function pathOf(target: string): string {
  const query = target.indexOf("?");
  return query === -1 ? target : target.slice(0, query);
}
