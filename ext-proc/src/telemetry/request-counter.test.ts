import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { RequestCounter } from "./request-counter.js";

async function values(registry: Registry): Promise<Record<string, number>> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === "test_decisions_total");
  const out: Record<string, number> = {};
  for (const v of (metric as unknown as { values: { labels: Record<string, string>; value: number }[] }).values) {
    out[`${v.labels["action"]}/${v.labels["phase"]}`] = v.value;
  }
  return out;
}

describe("RequestCounter", () => {
  it("shows every increment at the next read, per label set, and never counts one twice", async () => {
    const registry = new Registry();
    const counter = new RequestCounter(["action", "phase"], { name: "test_decisions_total", help: "test", registers: [registry] });
    counter.inc({ action: "allow", phase: "request_headers" });
    counter.inc({ action: "allow", phase: "request_headers" });
    counter.inc({ action: "deny", phase: "request_body" });
    counter.inc({ action: "allow", phase: "request_body" });
    expect(await values(registry)).toEqual({ "allow/request_headers": 2, "deny/request_body": 1, "allow/request_body": 1 });
    // A second read without new increments changes nothing; new ones add up.
    expect(await values(registry)).toEqual({ "allow/request_headers": 2, "deny/request_body": 1, "allow/request_body": 1 });
    counter.inc({ action: "deny", phase: "request_body" });
    expect(await values(registry)).toEqual({ "allow/request_headers": 2, "deny/request_body": 2, "allow/request_body": 1 });
    expect(await registry.metrics()).toContain('test_decisions_total{action="deny",phase="request_body"} 2');
  });

  it("keeps label values apart however they are spelled", async () => {
    const registry = new Registry();
    const counter = new RequestCounter(["action", "phase"], { name: "test_decisions_total", help: "test", registers: [registry] });
    // A naive joined key would make these two the same.
    counter.inc({ action: "a\u0000b", phase: "c" });
    counter.inc({ action: "a", phase: "b\u0000c" });
    expect(Object.values(await values(registry))).toEqual([1, 1]);
  });
});
