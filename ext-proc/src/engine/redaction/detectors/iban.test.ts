import { describe, expect, it } from "vitest";
import { redactWith, secretsFound } from "../test-redactor.js";
import { ibanChecksumValid } from "./iban.js";

describe("iban", () => {
  it("finds IBANs, compact or in groups of four, with a valid mod-97 checksum", () => {
    expect(secretsFound("iban", "pay DE89 3704 0044 0532 0130 00 or GB82WEST12345698765432, NO9386011117947.")).toEqual([
      "DE89 3704 0044 0532 0130 00",
      "GB82WEST12345698765432",
      "NO9386011117947",
    ]);
    expect(redactWith("iban", "GB82 WEST 1234 5698 7654 32").text).toBe("**** **** **** **** **54 32");
  });

  it("ignores a wrong checksum, a wrong length, an unknown country and longer codes", () => {
    expect(ibanChecksumValid("DE89370400440532013001")).toBe(false);
    expect(secretsFound("iban", "DE89 3704 0044 0532 0130 01")).toEqual([]);
    expect(secretsFound("iban", "DE89370400440532013")).toEqual([]);
    expect(secretsFound("iban", "ZZ89370400440532013000")).toEqual([]);
    expect(secretsFound("iban", "DE8937040044053201300012")).toEqual([]);
    expect(secretsFound("iban", "SKU AB12CDEF34567890 and AB12CDEF3456")).toEqual([]);
  });
});
