import { describe, expect, it } from "vitest";
import { redactWith, secretsFound } from "../test-redactor.js";

describe("phone", () => {
  it("finds E.164 and national formats, keeping the last 4 digits", () => {
    expect(secretsFound("phone", "call +4915112345678, (555) 123-4567 or 030 1234 5678.")).toEqual([
      "+4915112345678",
      "(555) 123-4567",
      "030 1234 5678",
    ]);
    expect(redactWith("phone", "+1 415-555-0100").text).toBe("+* ***-***-0100");
  });

  it("ignores bare numbers, dates, short numbers, versions and IPs", () => {
    expect(secretsFound("phone", '{"id": 123456789, "date": "2024-03-15", "n": "12 34", "v": "1.2.3", "ip": "192.168.100.200"}')).toEqual(
      [],
    );
  });
});
