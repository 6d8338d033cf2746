import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { PolicyScope } from "./policy-document.js";
import { compileConditions, type RequestIdentity } from "./request-conditions.js";
import { ScopeIndex } from "./scope-index.js";

const workload = fc.constantFrom("web", "cart", "pay");
const namespace = fc.constantFrom("shop", "billing", "dev");
const host = fc.constantFrom("shop.example.com", "a.tenant.example.com", "b.c.tenant.example.com", "tenant.example.com", "api.example.org");
const hostPattern = fc.constantFrom("shop.example.com", "*.tenant.example.com", "*.example.com", "api.example.org", "tenant.example.com");
const path = fc.constantFrom("/", "/admin", "/administrator", "/admin/users", "/internal/v2/x", "/internal", "/api/orders");
const prefix = fc.constantFrom("/", "/admin", "/admin/", "/internal/v2/", "/internal", "/api/");

const match: fc.Arbitrary<PolicyScope["match"]> = fc
  .record(
    {
      workloads: fc.uniqueArray(workload, { minLength: 1, maxLength: 2 }),
      namespaces: fc.uniqueArray(namespace, { minLength: 1, maxLength: 2 }),
      hosts: fc.uniqueArray(hostPattern, { minLength: 1, maxLength: 2 }),
      pathPrefixes: fc.uniqueArray(prefix, { minLength: 1, maxLength: 2 }),
    },
    { requiredKeys: [] },
  )
  .filter((m) => Object.keys(m).length > 0);

const request: fc.Arbitrary<RequestIdentity> = fc.record({ workload, namespace, host, path, method: fc.constant("GET") });

describe("ScopeIndex", () => {
  it("finds exactly the first scope, in policy order, whose match holds", () => {
    fc.assert(
      fc.property(fc.array(match, { maxLength: 12 }), fc.array(request, { minLength: 1, maxLength: 20 }), (matches, requests) => {
        const index = new ScopeIndex(matches.map((m, i) => ({ match: m, value: i })));
        const linear = matches.map(compileConditions);
        for (const r of requests) {
          const expected = linear.findIndex((applies) => applies(r));
          expect(index.find(r)).toBe(expected === -1 ? undefined : expected);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("matches wildcard hosts on subdomains only", () => {
    const index = new ScopeIndex([{ match: { hosts: ["*.tenant.example.com"] }, value: "t" }]);
    expect(index.find({ workload: "w", namespace: "n", host: "a.tenant.example.com", path: "/", method: "GET" })).toBe("t");
    expect(index.find({ workload: "w", namespace: "n", host: "tenant.example.com", path: "/", method: "GET" })).toBeUndefined();
  });
});
