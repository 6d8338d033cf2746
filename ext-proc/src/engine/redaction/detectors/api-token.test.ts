import { describe, expect, it } from "vitest";
import { secretsFound } from "../test-redactor.js";

const alnum = (n: number): string => "aB3dE5gH7jK9".repeat(Math.ceil(n / 12)).slice(0, n);

describe("api-token", () => {
  it("finds each supported format", () => {
    const tokens = [
      `ghp_${alnum(36)}`,
      `gho_${alnum(36)}`,
      `ghs_${alnum(36)}`,
      `github_pat_${alnum(22)}_${alnum(59)}`,
      "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
      `sk_live_${alnum(24)}`,
      `rk_live_${alnum(99)}`,
      `AIza${alnum(35)}`,
      `glpat-${alnum(20)}`,
      `npm_${alnum(36)}`,
      `sk-${alnum(20)}T3BlbkFJ${alnum(20)}`,
      `sk-proj-${alnum(120)}`,
      `sk-ant-api03-${alnum(95)}`,
    ];
    for (const token of tokens) expect(secretsFound("api-token", `key: "${token}"`)).toEqual([token]);
  });

  it("ignores test keys, short or embedded prefixes, UUIDs and ordinary sk- words", () => {
    expect(secretsFound("api-token", `sk_test_${alnum(24)} ghp_${alnum(20)} xghp_${alnum(36)} ghp_${alnum(37)}`)).toEqual([]);
    expect(secretsFound("api-token", "sk-learn, task-runner, npm_install, AIzaTooShort, 123e4567-e89b-12d3-a456-426614174000")).toEqual([]);
    expect(secretsFound("api-token", `sk-${alnum(48)}`)).toEqual([]);
  });
});
