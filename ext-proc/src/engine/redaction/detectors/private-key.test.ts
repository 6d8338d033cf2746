import { describe, expect, it } from "vitest";
import { MAX_MATCH_BYTES } from "../redaction-limits.js";
import { redactWith, secretsFound } from "../test-redactor.js";

const BODY = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj";
const PEM = `-----BEGIN PRIVATE KEY-----\n${BODY}\n${BODY}\n-----END PRIVATE KEY-----`;

describe("private-key", () => {
  it("masks the whole PEM block, BEGIN to END, and nothing after it", () => {
    const { text } = redactWith("private-key", `key:\n${PEM}\nnext line`);
    expect(text).not.toContain(BODY.slice(0, 12));
    expect(text.endsWith("-----\nnext line")).toBe(true);
    expect(secretsFound("private-key", `x ${PEM} y`)).toEqual([PEM]);
  });

  it("masks RSA, OPENSSH, encrypted and JSON-escaped keys", () => {
    const legacy = `-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n${BODY}\n-----END RSA PRIVATE KEY-----`;
    expect(secretsFound("private-key", legacy)).toEqual([legacy]);
    const json = JSON.stringify({ private_key: `-----BEGIN OPENSSH PRIVATE KEY-----\n${BODY}\n-----END OPENSSH PRIVATE KEY-----\n` });
    const { text } = redactWith("private-key", json);
    expect(text).not.toContain(BODY.slice(0, 12));
    expect(JSON.parse(text)).toHaveProperty("private_key");
  });

  it("stops a block without END at the limit, and ignores public keys and certificates", () => {
    const huge = `-----BEGIN PRIVATE KEY-----\n${"A".repeat(MAX_MATCH_BYTES * 2)}`;
    const [hit] = redactWith("private-key", huge).hits;
    expect(hit?.length).toBeLessThanOrEqual(MAX_MATCH_BYTES);
    expect(hit?.length).toBeGreaterThan(MAX_MATCH_BYTES - 100);
    expect(secretsFound("private-key", `-----BEGIN PUBLIC KEY-----\n${BODY}\n-----END PUBLIC KEY-----`)).toEqual([]);
    expect(secretsFound("private-key", `-----BEGIN CERTIFICATE-----\n${BODY}\n-----END CERTIFICATE-----`)).toEqual([]);
  });
});
