import { describe, expect, it } from "vitest";
import { redactWith, secretsFound } from "../test-redactor.js";
import { luhnValid } from "./credit-card.js";

describe("credit-card", () => {
  it("finds Luhn-valid numbers, plain, spaced or dashed, and keeps the last 4 digits", () => {
    expect(secretsFound("credit-card", "visa 4111111111111111, amex 3782-822463-10005; mc 5555 5555 5555 4444.")).toEqual([
      "4111111111111111",
      "3782-822463-10005",
      "5555 5555 5555 4444",
    ]);
    expect(redactWith("credit-card", "card=4111-1111-1111-1111").text).toBe("card=****-****-****-1111");
  });

  it("masks the card but not an expiry that follows it", () => {
    expect(secretsFound("credit-card", "4111 1111 1111 1111 12/27")).toEqual(["4111 1111 1111 1111"]);
  });

  it("ignores Luhn-invalid numbers, order ids, longer digit runs, phone numbers, decimals and hex", () => {
    expect(luhnValid("4111111111111112")).toBe(false);
    expect(secretsFound("credit-card", "4111111111111112")).toEqual([]);
    expect(secretsFound("credit-card", '{"orderId": "2024031512345678"}')).toEqual([]);
    expect(secretsFound("credit-card", "41111111111111111111 and 1234 4111 1111 1111 1111 and x4111111111111111")).toEqual([]);
    expect(secretsFound("credit-card", "+4111111111111111 and 3.4111111111111111")).toEqual([]);
    expect(secretsFound("credit-card", "commit 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b, id 123e4567-e89b-12d3-a456-426614174000")).toEqual([]);
    expect(secretsFound("credit-card", "ts 1732180000000, 1732180000000123")).toEqual([]);
  });
});
