import { describe, expect, it } from "vitest";
import type { Verdict } from "../engine/types.js";
import { securityEvent } from "./security-event.js";

const context = {
  decisionId: "d",
  requestId: "r",
  workload: "w",
  namespace: "n",
  authority: "shop",
  method: "GET",
  path: "/pay?card=4111111111111111&token=ghp_0123456789abcdefghijABCDEFGHIJ012345",
  policyHash: "h",
  scope: "spec",
};

describe("securityEvent", () => {
  it("masks secrets in matched text and paths, keeping the rest", () => {
    const verdict: Verdict = {
      action: "deny",
      status: 403,
      score: 5,
      truncated: [],
      matches: [{ ruleId: "x", category: "sqli", severity: "critical", score: 5, phase: "request_headers", target: "args:q", matched: "' or 1=1 -- 4111111111111111" }],
    };
    const event = securityEvent(context, "request_headers", verdict, true);
    const text = JSON.stringify(event);
    expect(text).not.toContain("4111111111111111");
    expect(text).not.toContain("ghp_0123456789abcdefghijABCDEFGHIJ012345");
    expect(event.rules[0]?.matched).toMatch(/^' or 1=1 -- \*{12}1111$/);
    expect(event.path).toMatch(/^\/pay\?card=\*{12}1111&token=/);
    expect(event.status).toBe(403);
  });
});
