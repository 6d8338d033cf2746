import { describe, expect, it } from "vitest";
import { PhaseBudget } from "./phase-budget.js";

describe("PhaseBudget", () => {
  it("reads the clock on the first question, so a spent budget is seen at once", () => {
    expect(new PhaseBudget(10, performance.now() - 100).exceeded()).toBe(true);
  });

  it("is not exceeded before the deadline and stays exceeded after it", async () => {
    const budget = new PhaseBudget(20);
    for (let i = 0; i < 20; i += 1) expect(budget.exceeded()).toBe(false);
    await new Promise((r) => setTimeout(r, 30));
    let seen = false;
    for (let i = 0; i < 8 && !seen; i += 1) seen = budget.exceeded();
    expect(seen).toBe(true);
    expect(budget.exceeded()).toBe(true);
  });
});
