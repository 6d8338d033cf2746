import { describe, expect, it } from "vitest";
import { RedactionError } from "../redaction-error.js";
import { customDetector } from "./custom-detector.js";

function failure(pattern: string): RedactionError {
  try {
    customDetector("emp-id", pattern);
  } catch (error) {
    if (error instanceof RedactionError) return error;
  }
  throw new Error(`no RedactionError for ${pattern}`);
}

describe("customDetector", () => {
  it("accepts a bounded RE2 pattern and masks the whole match by default", () => {
    expect(customDetector("emp-id", "EMP-[0-9]{6}")).toEqual({ name: "emp-id", pattern: "EMP-[0-9]{6}", keepLast: 0 });
  });

  it("rejects invalid, unbounded and empty-matching patterns, naming the detector", () => {
    for (const pattern of ["(?=x)", "(", "EMP-[0-9]+", "x{1,9000}", "a?", "x*"]) {
      const error = failure(pattern);
      expect(error.code).toBe("policy_invalid");
      expect(error.message).toContain("redaction.custom[emp-id]");
    }
    expect(failure("(?=x)").message).toContain("invalid perl operator");
    expect(failure("EMP-[0-9]+").message).toContain("unboundedly many");
    expect(failure("a?").message).toContain("empty string");
  });
});
