import { describe, expect, it } from "vitest";
import { compileRedactor } from "./compile-redactor.js";
import { DEFAULT_REDACTION_DETECTORS } from "./detectors/registry.js";
import type { RedactionHit, Redactor } from "./redaction-types.js";

const redactor = compileRedactor({
  detectors: DEFAULT_REDACTION_DETECTORS,
  custom: [],
  jsonFields: ["password"],
  mask: { char: "#" },
});

function streamed(r: Redactor, chunks: Buffer[], json = false): { body: Buffer; hits: RedactionHit[]; held: number[] } {
  const stream = r.stream(json);
  const out: Buffer[] = [];
  const hits: RedactionHit[] = [];
  const held: number[] = [];
  let pushed = 0;
  let returned = 0;
  for (const chunk of chunks) {
    const result = stream.push(chunk);
    pushed += chunk.length;
    returned += result.body.length;
    held.push(pushed - returned);
    out.push(result.body);
    hits.push(...result.hits);
  }
  const last = stream.end();
  out.push(last.body);
  hits.push(...last.hits);
  return { body: Buffer.concat(out), hits, held };
}

describe("StreamRedaction", () => {
  it("masks a secret split across chunks, and one pushed a byte at a time", () => {
    const text = "card 4111 1111 1111 1111 and key AKIAIOSFODNN7EXAMPLE.";
    const whole = redactor.redact(Buffer.from(text), false);
    expect(whole.body.toString()).toBe("card #### #### #### 1111 and key ####################.");
    const split = streamed(redactor, [Buffer.from(text.slice(0, 12)), Buffer.alloc(0), Buffer.from(text.slice(12, 40)), Buffer.from(text.slice(40))]);
    expect(split.body).toEqual(whole.body);
    const bytes = streamed(redactor, [...Buffer.from(text)].map((b) => Buffer.from([b])));
    expect(bytes.body).toEqual(whole.body);
    expect(bytes.hits).toEqual(whole.hits);
  });

  it("holds back no more than maxHoldBytes and returns everything by end()", () => {
    const chunk = Buffer.alloc(3000, "lorem ipsum ");
    const result = streamed(redactor, [chunk, chunk, chunk, chunk]);
    expect(Math.max(...result.held)).toBeLessThanOrEqual(redactor.maxHoldBytes);
    expect(result.held.at(-1)).toBeGreaterThan(0);
    expect(result.body.equals(Buffer.concat([chunk, chunk, chunk, chunk]))).toBe(true);
  });

  it("holds back only the pattern's bound until a match starts, then the match's whole extension", () => {
    const keys = compileRedactor({ detectors: ["private-key"], custom: [], jsonFields: [], mask: { char: "*" } });
    const filler = Buffer.alloc(4096, "lorem ipsum ");
    const key = Buffer.from(`-----BEGIN PRIVATE KEY-----\n${"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n".repeat(60)}-----END PRIVATE KEY-----\n`);
    const chunks = [filler, filler, key.subarray(0, 100), key.subarray(100), filler, filler, filler];
    const result = streamed(keys, chunks);
    expect(result.held[1]).toBeLessThan(100);
    expect(result.held[3]).toBeGreaterThanOrEqual(key.length);
    expect(result.held.at(-1)).toBeLessThan(100);
    expect(result.body).toEqual(keys.redact(Buffer.concat(chunks), false).body);
    expect(result.hits).toHaveLength(1);
  });

  it("masks JSON fields in a stream with no hold at all when only fields are configured", () => {
    const fieldsOnly = compileRedactor({ detectors: [], custom: [], jsonFields: ["password"], mask: { char: "*" } });
    expect(fieldsOnly.maxHoldBytes).toBe(8);
    const stream = fieldsOnly.stream(true);
    expect(stream.push(Buffer.from('{"password": "hun')).body.toString()).toBe('{"password": "***');
    const rest = stream.push(Buffer.from('ter2", "a": 1}'));
    expect(rest.body.toString()).toBe('****", "a": 1}');
    expect(rest.hits).toEqual([{ detector: "json-field", offset: 13, length: 9 }]);
    expect(stream.end().body.length).toBe(0);
  });

  it("masks a JSON field value far longer than the hold limit as it streams", () => {
    const secret = "s3cr3t ".repeat(20_000);
    const body = Buffer.from(JSON.stringify({ id: 1, password: secret, after: "visible" }));
    const chunks = Array.from({ length: Math.ceil(body.length / 4096) }, (_, k) => body.subarray(k * 4096, (k + 1) * 4096));
    const result = streamed(redactor, chunks, true);
    expect(Math.max(...result.held)).toBeLessThanOrEqual(redactor.maxHoldBytes);
    expect(JSON.parse(result.body.toString())).toEqual({ id: 1, password: "#".repeat(secret.length), after: "visible" });
    expect(result.hits).toEqual([{ detector: "json-field", offset: body.indexOf('"s3cr3t'), length: secret.length + 2 }]);
  });

  it("reports hit offsets relative to the whole stream", () => {
    const result = streamed(redactor, [Buffer.alloc(5000, "x "), Buffer.from(" AKIAIOSFODNN7EXAMPLE ")]);
    expect(result.hits).toEqual([{ detector: "aws-access-key", offset: 5001, length: 20 }]);
  });

  it("refuses to be used after end", () => {
    const stream = redactor.stream(false);
    stream.end();
    expect(() => stream.push(Buffer.from("x"))).toThrow(/after end/);
  });
});
