/**
 * Idle memory of `meshrasp serve` grows with the number of RE2.Set objects the default policy
 * compiles (about 0.3-0.5 MiB of native memory each). 151 sets held the process at ~129 MiB RSS;
 * one folded union per step (plus the step's own rules), multi-line sets shared by single and
 * joined scanning, and rule lists in a canonical order brought it to 64 (~107 MiB, see
 * docs/engine.md). The budget leaves room for a few more rules, and fails long before memory
 * creeps back toward the 150 MiB target.
 */
import { describe, expect, it } from "vitest";
import { compiledSetCount } from "../../ext-proc/src/engine/matching/regex-cache.js";
import { compilePolicy } from "../../ext-proc/src/policy/compile-policy.js";
import { defaultPolicyPath, readPolicyFile } from "../../ext-proc/src/policy/policy-document.js";

const DEFAULT_POLICY_SET_BUDGET = 72;

describe("compiled sets of the default policy", () => {
  it(`stay within ${DEFAULT_POLICY_SET_BUDGET} RE2.Sets`, () => {
    const before = compiledSetCount();
    compilePolicy(readPolicyFile(defaultPolicyPath()));
    const compiled = compiledSetCount() - before;
    expect(compiled).toBeGreaterThan(0);
    expect(compiled).toBeLessThanOrEqual(DEFAULT_POLICY_SET_BUDGET);
  });
});
