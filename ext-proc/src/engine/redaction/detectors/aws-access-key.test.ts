import { describe, expect, it } from "vitest";
import { redactWith, secretsFound } from "../test-redactor.js";

describe("aws-access-key", () => {
  it("finds access key ids with a documented prefix and masks them whole", () => {
    expect(secretsFound("aws-access-key", "id=AKIAIOSFODNN7EXAMPLE temp ASIAY34FZKBOKMUTVV7A")).toEqual([
      "AKIAIOSFODNN7EXAMPLE",
      "ASIAY34FZKBOKMUTVV7A",
    ]);
    expect(redactWith("aws-access-key", '"AKIAIOSFODNN7EXAMPLE"').text).toBe(`"${"*".repeat(20)}"`);
  });

  it("ignores AKIA in prose, too short or too long ids, and lower case", () => {
    expect(secretsFound("aws-access-key", "AKIA is the prefix of long-term keys; AKIAIOSFODNN7EXAMPL; AKIAIOSFODNN7EXAMPLE1; akiaiosfodnn7example")).toEqual(
      [],
    );
  });
});
