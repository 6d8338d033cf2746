import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { decodeBody, encodeBody } from "./body-codec.js";
import type { ContentEncoding } from "./content-encoding.js";
import { RedactionError } from "./redaction-error.js";

const ENCODINGS: ContentEncoding[] = ["gzip", "deflate", "br"];
const TEXT = Buffer.from(JSON.stringify({ card: "4111 1111 1111 1111", note: "é ".repeat(5000) }));

function codeOf(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    if (error instanceof RedactionError) return error.code;
    throw error;
  }
  return "none";
}

describe("decodeBody / encodeBody", () => {
  it("round-trips every encoding, and decodes what zlib produced", () => {
    for (const encoding of ENCODINGS) {
      expect(decodeBody(encodeBody(TEXT, encoding), encoding, TEXT.length).equals(TEXT)).toBe(true);
    }
    expect(decodeBody(zlib.gzipSync(TEXT, { level: 9 }), "gzip", 1 << 20).equals(TEXT)).toBe(true);
    expect(decodeBody(zlib.brotliCompressSync(TEXT), "br", 1 << 20).equals(TEXT)).toBe(true);
    expect(decodeBody(Buffer.alloc(0), "gzip", 1024)).toEqual(Buffer.alloc(0));
  });

  it("stops a decompression bomb at the limit: 10 MB of zeros gzipped", () => {
    const bomb = zlib.gzipSync(Buffer.alloc(10_000_000));
    expect(bomb.length).toBeLessThan(20_000);
    const before = process.memoryUsage().arrayBuffers;
    expect(codeOf(() => decodeBody(bomb, "gzip", 1_000_000))).toBe("decompression_limit");
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(5_000_000);
    expect(codeOf(() => decodeBody(zlib.brotliCompressSync(Buffer.alloc(10_000_000)), "br", 1_000_000))).toBe("decompression_limit");
    expect(decodeBody(encodeBody(TEXT, "deflate"), "deflate", TEXT.length)).toHaveLength(TEXT.length);
    expect(codeOf(() => decodeBody(encodeBody(TEXT, "deflate"), "deflate", TEXT.length - 1))).toBe("decompression_limit");
  });

  it("reports truncated, corrupt and mislabelled bodies as corrupt_encoding", () => {
    const gzip = encodeBody(TEXT, "gzip");
    expect(codeOf(() => decodeBody(gzip.subarray(0, gzip.length - 10), "gzip", 1 << 20))).toBe("corrupt_encoding");
    expect(codeOf(() => decodeBody(TEXT, "gzip", 1 << 20))).toBe("corrupt_encoding");
    expect(codeOf(() => decodeBody(gzip, "deflate", 1 << 20))).toBe("corrupt_encoding");
    expect(codeOf(() => decodeBody(gzip, "br", 1 << 20))).toBe("corrupt_encoding");
    expect(codeOf(() => decodeBody(encodeBody(TEXT, "br"), "gzip", 1 << 20))).toBe("corrupt_encoding");
    expect(codeOf(() => decodeBody(zlib.deflateRawSync(TEXT), "deflate", 1 << 20))).toBe("corrupt_encoding");
    const br = encodeBody(TEXT, "br");
    expect(codeOf(() => decodeBody(br.subarray(0, br.length >> 1), "br", 1 << 20))).toBe("corrupt_encoding");
  });
});
