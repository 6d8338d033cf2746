import { describe, expect, it } from "vitest";
import { redactWith, secretsFound } from "../test-redactor.js";

describe("email", () => {
  it("finds addresses and masks their letters and digits", () => {
    expect(secretsFound("email", "write to john.doe+x@mail.example.co.uk. Or <ops@example.org>")).toEqual([
      "john.doe+x@mail.example.co.uk",
      "ops@example.org",
    ]);
    expect(redactWith("email", "a@b.io").text).toBe("*@*.**");
  });

  it("ignores handles, versions and addresses without a top-level domain", () => {
    expect(secretsFound("email", "@user, npm i pkg@1.2.3, root@localhost, a@b.c1")).toEqual([]);
  });
});
