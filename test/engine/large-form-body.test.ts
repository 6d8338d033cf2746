/**
 * A large form body costs work bounded by the argument limit, and the time budget is asked
 * between its values: 200,000 short arguments in one 1.4 MB body must not be parsed to the end.
 */
import { describe, expect, it } from "vitest";
import { compileEngine } from "../../ext-proc/src/engine/compile-engine.js";
import type { Budget, Verdict } from "../../ext-proc/src/engine/types.js";
import { defaultEngineSettings } from "../support/default-engine-settings.js";

const ARGUMENTS = 200_000;
const engine = compileEngine(defaultEngineSettings());
const body = Buffer.from(Array.from({ length: ARGUMENTS }, (_, i) => `k${i % 100}=v${i % 7}`).join("&"), "latin1");

/** A budget that counts how often it is asked and is exceeded after `allowed` questions. */
function countingBudget(allowed: number): Budget & { asked: number } {
  return {
    asked: 0,
    exceeded() {
      this.asked++;
      return this.asked > allowed;
    },
  };
}

function inspect(budget: Budget): Verdict {
  const tx = engine.newTransaction();
  const headers = [{ name: "content-type", value: Buffer.from("application/x-www-form-urlencoded") }];
  tx.inspectRequestHeaders({ method: "POST", path: "/", authority: "a", scheme: "http", headers }, { exceeded: () => false });
  return tx.inspectRequestBody(body, { last: true, complete: true }, budget);
}

describe("a form body with 200,000 arguments", () => {
  it("stops parsing at maxArguments", () => {
    const budget = countingBudget(Number.POSITIVE_INFINITY);
    const verdict = inspect(budget);
    expect(verdict.truncated).toEqual(["argument_limit"]);
    // One question per value and per name, up to the limit, plus the raw body: not 400,000.
    const limit = defaultEngineSettings().limits.maxArguments;
    expect(budget.asked).toBeLessThanOrEqual(2 * limit + 4);
  });

  it("stops at the first value after the time budget is exceeded, and says so", () => {
    const budget = countingBudget(10);
    const verdict = inspect(budget);
    expect(verdict.truncated).toEqual(["time_budget"]);
    expect(budget.asked).toBe(11);
  });
});
