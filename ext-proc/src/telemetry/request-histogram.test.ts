import fc from "fast-check";
import { Histogram, Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { RequestHistogram } from "./request-histogram.js";

const BUCKETS = [0.00001, 0.00005, 0.001, 0.01, 0.2];

/** The same observations through prom-client's Histogram and through RequestHistogram. */
async function expositions(observations: readonly [string, number][]): Promise<[string, string]> {
  const reference = new Registry();
  const theirs = new Histogram({ name: "h_seconds", help: "help", labelNames: ["phase"], buckets: BUCKETS, registers: [reference] });
  const registry = new Registry();
  const ours = new RequestHistogram("h_seconds", "help", "phase", BUCKETS, [registry]);
  for (const [phase, value] of observations) {
    theirs.observe({ phase }, value);
    ours.observe(phase, value);
  }
  return [await registry.metrics(), await reference.metrics()];
}

describe("RequestHistogram", () => {
  it("exposes what prom-client's Histogram exposes for the same observations, bounds included", async () => {
    const [ours, theirs] = await expositions([
      ["request_headers", 0.00001],
      ["request_headers", 0.0000101],
      ["request_body", 0.3],
      ["request_body", 0],
      ["request_headers", 0.005],
    ]);
    expect(ours).toBe(theirs);
    expect(ours).toContain('h_seconds_bucket{le="0.00001",phase="request_headers"} 1');
    expect(ours).toContain('h_seconds_bucket{le="+Inf",phase="request_body"} 2');
  });

  it("agrees with prom-client on any observations", async () => {
    const observation = fc.tuple(fc.constantFrom("request_headers", "request_body", "response_body"), fc.double({ min: 0, max: 1, noNaN: true }));
    await fc.assert(
      fc.asyncProperty(fc.array(observation, { maxLength: 40 }), async (observations) => {
        const [ours, theirs] = await expositions(observations);
        expect(ours).toBe(theirs);
      }),
      { numRuns: 200 },
    );
  });

  it("starts over on reset, as the registry asks", async () => {
    const registry = new Registry();
    const ours = new RequestHistogram("h_seconds", "help", "phase", BUCKETS, [registry]);
    ours.observe("request_body", 0.001);
    registry.resetMetrics();
    expect(await registry.metrics()).not.toContain("h_seconds_count");
  });
});
