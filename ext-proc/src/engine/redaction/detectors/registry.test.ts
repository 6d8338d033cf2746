import { describe, expect, it } from "vitest";
import { patternByteBounds } from "../pattern-bounds.js";
import { MAX_MATCH_BYTES } from "../redaction-limits.js";
import { BUILT_IN_DETECTORS, DEFAULT_REDACTION_DETECTORS } from "./registry.js";

describe("detector registry", () => {
  it("holds every detector the policy schema allows, email and phone off by default", () => {
    expect([...BUILT_IN_DETECTORS.keys()].sort()).toEqual(
      ["api-token", "aws-access-key", "aws-secret-key", "credit-card", "email", "iban", "jwt", "phone", "private-key"].sort(),
    );
    expect(DEFAULT_REDACTION_DETECTORS).not.toContain("email");
    expect(DEFAULT_REDACTION_DETECTORS).not.toContain("phone");
    expect(DEFAULT_REDACTION_DETECTORS).toHaveLength(7);
  });

  it("gives every built-in a bounded, non-empty match within MAX_MATCH_BYTES", () => {
    for (const detector of BUILT_IN_DETECTORS.values()) {
      const bounds = patternByteBounds(detector.pattern);
      expect(bounds.min, detector.name).toBeGreaterThan(0);
      // An extension takes only what MAX_MATCH_BYTES leaves after the pattern (compileDetector).
      expect(bounds.max, detector.name).toBeLessThanOrEqual(MAX_MATCH_BYTES);
    }
  });
});
