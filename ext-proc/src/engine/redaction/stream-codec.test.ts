import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import type { ContentEncoding } from "./content-encoding.js";
import { RedactionError } from "./redaction-error.js";
import { streamDecoder, streamEncoder, type StreamCodec } from "./stream-codec.js";

const TEXT = Buffer.from("lorem ipsum 4111 1111 1111 1111 dolor ".repeat(4000));

async function through(codec: StreamCodec, input: Buffer, chunkBytes: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let at = 0; at < input.length; at += chunkBytes) out.push(await codec.push(input.subarray(at, at + chunkBytes)));
  out.push(await codec.push(Buffer.alloc(0)));
  out.push(await codec.end());
  return out;
}

async function failure(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
  } catch (error) {
    if (error instanceof RedactionError) return error.code;
    throw error;
  }
  return "none";
}

describe("streamDecoder / streamEncoder", () => {
  it("round-trips every encoding chunk by chunk, flushing each pushed chunk", async () => {
    for (const encoding of ["gzip", "deflate", "br"] as ContentEncoding[]) {
      const encoder = streamEncoder(encoding);
      const first = await encoder.push(TEXT.subarray(0, 100));
      // A sync flush makes what was pushed decodable at once (server-sent events are not held).
      const flush = { finishFlush: encoding === "br" ? zlib.constants.BROTLI_OPERATION_FLUSH : zlib.constants.Z_SYNC_FLUSH };
      const decodePrefix = { gzip: zlib.gunzipSync, deflate: zlib.inflateSync, br: zlib.brotliDecompressSync }[encoding];
      expect(decodePrefix(first, flush).toString()).toBe(TEXT.subarray(0, 100).toString());
      const compressed = Buffer.concat([first, ...(await through(encoder, TEXT.subarray(100), 7000))]);
      const decoded = await through(streamDecoder(encoding, TEXT.length), compressed, 333);
      // Buffer.equals: a deep toEqual over 150 KB takes about a second.
      expect(Buffer.concat(decoded).equals(TEXT)).toBe(true);
    }
  });

  it("stops a decompression bomb at the limit without inflating it all", async () => {
    const bomb = zlib.gzipSync(Buffer.alloc(10_000_000));
    const decoder = streamDecoder("gzip", 1_000_000);
    let returned = 0;
    const code = await failure(async () => {
      for (let at = 0; at < bomb.length; at += 512) returned += (await decoder.push(bomb.subarray(at, at + 512))).length;
    });
    expect(code).toBe("decompression_limit");
    expect(returned).toBeLessThanOrEqual(1_000_000);
    expect(await failure(() => decoder.end())).toBe("decompression_limit");
    expect(await failure(() => through(streamDecoder("br", 1_000_000), zlib.brotliCompressSync(Buffer.alloc(10_000_000)), 65536))).toBe(
      "decompression_limit",
    );
  });

  it("rejects truncated and mislabelled streams with corrupt_encoding", async () => {
    const gzip = zlib.gzipSync(TEXT);
    expect(await failure(() => through(streamDecoder("gzip", 1 << 20), gzip.subarray(0, gzip.length - 8), 1000))).toBe("corrupt_encoding");
    expect(await failure(() => through(streamDecoder("gzip", 1 << 20), TEXT, 1000))).toBe("corrupt_encoding");
    expect(await failure(() => through(streamDecoder("br", 1 << 20), gzip, 1000))).toBe("corrupt_encoding");
    expect(await failure(() => through(streamDecoder("deflate", 1 << 20), gzip, 1000))).toBe("corrupt_encoding");
  });

  it("gives an empty body for an empty stream", async () => {
    expect(Buffer.concat(await through(streamDecoder("gzip", 1024), Buffer.alloc(0), 10))).toEqual(Buffer.alloc(0));
  });
});
