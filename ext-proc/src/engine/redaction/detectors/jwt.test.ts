import { describe, expect, it } from "vitest";
import { redactWith, secretsFound } from "../test-redactor.js";

const JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

describe("jwt", () => {
  it("finds three-segment tokens, signed or not", () => {
    expect(secretsFound("jwt", `Authorization: Bearer ${JWT}`)).toEqual([JWT]);
    expect(secretsFound("jwt", `{"token":"${JWT}"}`)).toEqual([JWT]);
    const unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9.";
    expect(secretsFound("jwt", `t=${unsigned} `)).toEqual([unsigned]);
    expect(redactWith("jwt", JWT).text).toBe(JWT.replace(/[A-Za-z0-9]/g, "*"));
  });

  it("ends the token at the third segment (a sentence's full stop is not part of it)", () => {
    expect(secretsFound("jwt", `use ${JWT}. Then`)).toEqual([JWT]);
  });

  it("ignores two segments, base64 JSON that is not base64url, and text starting eyJ", () => {
    expect(secretsFound("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0")).toEqual([]);
    expect(secretsFound("jwt", "eyJhbGciOi+/IUzI1NiJ9.eyJz/dWIiOiIxIn0+.abc")).toEqual([]);
    expect(secretsFound("jwt", "eyJust a word. And another.")).toEqual([]);
    expect(secretsFound("jwt", "xeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig")).toEqual([]);
  });
});
