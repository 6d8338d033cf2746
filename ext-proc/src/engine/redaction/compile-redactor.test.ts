import { describe, expect, it } from "vitest";
import { compileRedactor } from "./compile-redactor.js";
import { DEFAULT_REDACTION_DETECTORS } from "./detectors/registry.js";
import { RedactionError } from "./redaction-error.js";
import { CONTEXT_BYTES, MAX_MATCH_BYTES } from "./redaction-limits.js";
import type { RedactionSettings } from "./redaction-types.js";

const BASE: RedactionSettings = { detectors: DEFAULT_REDACTION_DETECTORS, custom: [], jsonFields: [], mask: { char: "*" } };

function policyError(settings: Partial<RedactionSettings>): RedactionError {
  try {
    compileRedactor({ ...BASE, ...settings });
  } catch (error) {
    if (error instanceof RedactionError) return error;
  }
  throw new Error("compiled");
}

describe("compileRedactor", () => {
  it("rejects unknown detectors, clashing names, bad masks and bad custom patterns, naming them", () => {
    const cases: [Partial<RedactionSettings>, string][] = [
      [{ detectors: ["credit-card", "ssn"] }, "redaction.detectors[ssn]: unknown detector"],
      [{ detectors: ["jwt", "jwt"] }, "redaction.detectors[jwt]: listed twice"],
      [{ custom: [{ name: "email", pattern: "x" }] }, "redaction.custom[email]: name already used"],
      [{ custom: [{ name: "bad", pattern: "(?<=x)y" }] }, "redaction.custom[bad].pattern: not a valid RE2 pattern"],
      [{ mask: { char: '"' } }, "redaction.mask.char"],
      [{ mask: { char: "**" } }, "redaction.mask.char"],
      [{ mask: { char: "*", keepLast: 9 } }, "redaction.mask.keepLast"],
      [{ jsonFields: [""] }, "redaction.jsonFields"],
    ];
    for (const [settings, message] of cases) {
      const error = policyError(settings);
      expect(error.code).toBe("policy_invalid");
      expect(error.message).toContain(message);
    }
  });

  it("holds back the longest detector match plus context, and less without private-key", () => {
    expect(compileRedactor(BASE).maxHoldBytes).toBe(MAX_MATCH_BYTES + CONTEXT_BYTES);
    const small = compileRedactor({ ...BASE, detectors: ["credit-card", "aws-access-key"] });
    expect(small.maxHoldBytes).toBeLessThan(200);
  });

  it("applies the policy's keepLast and mask character to every detector", () => {
    const redactor = compileRedactor({ ...BASE, mask: { char: "X", keepLast: 2 } });
    const out = redactor.redact(Buffer.from("4111111111111111 AKIAIOSFODNN7EXAMPLE"), false).body.toString();
    expect(out).toBe("XXXXXXXXXXXXXX11 XXXXXXXXXXXXXXXXXXLE");
  });

  it("masks JSON fields and detector matches together and keeps the JSON valid", () => {
    const redactor = compileRedactor({ ...BASE, jsonFields: ["password"] });
    const body = Buffer.from(JSON.stringify({ password: "AKIAIOSFODNN7EXAMPLE", note: "card 4111-1111-1111-1111", n: 1 }));
    const { body: out, hits } = redactor.redact(body, true);
    expect(JSON.parse(out.toString())).toEqual({ password: "*".repeat(20), note: "card ****-****-****-1111", n: 1 });
    expect(hits.map((h) => h.detector).sort()).toEqual(["aws-access-key", "credit-card", "json-field"]);
    expect(redactor.redact(body, false).body.toString()).toContain('"password":"********************"');
  });

  it("never throws on invalid UTF-8 or binary bodies, and leaves them the same length", () => {
    const redactor = compileRedactor({ ...BASE, detectors: [...DEFAULT_REDACTION_DETECTORS, "email", "phone"], jsonFields: ["a"] });
    const binary = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 256));
    for (const body of [binary, Buffer.from([0xff, 0xfe, 0x22, 0x61, 0x22, 0x3a, 0xc3]), Buffer.from("\uD800 AKIAIOSFODNN7EXAMPLE")]) {
      for (const json of [true, false]) expect(redactor.redact(body, json).body.length).toBe(body.length);
    }
    expect(redactor.redact(Buffer.from([0xff, 0x20, 0x41, 0x4b, 0x49, 0x41, ...Buffer.from("IOSFODNN7EXAMPLE")]), false).hits).toHaveLength(1);
  });

  it("leaves UUIDs, git SHAs, base64 images and ordinary JSON untouched", () => {
    const redactor = compileRedactor({ ...BASE, detectors: [...DEFAULT_REDACTION_DETECTORS, "email"] });
    const png = Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 131 + 7) % 256)).toString("base64");
    const body = Buffer.from(
      JSON.stringify({
        id: "123e4567-e89b-12d3-a456-426614174000",
        commit: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b",
        image: `data:image/png;base64,${png}`,
        createdAt: "2024-03-15T12:00:00.000Z",
        ts: 1732180000000,
        price: 1234567.89,
      }),
    );
    const result = redactor.redact(body, true);
    expect(result.hits).toEqual([]);
    expect(result.body).toEqual(body);
  });
});
