import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import {
  compileRedactor,
  decodeBody,
  DEFAULT_REDACTION_DETECTORS,
  encodeBody,
  parseContentEncoding,
  streamDecoder,
  streamEncoder,
} from "../../ext-proc/src/engine/redaction/index.js";

/**
 * The path the server takes for a compressed response: decode within the limit, redact,
 * re-encode with the same encoding; whole (BUFFERED) and chunk by chunk (STREAMED).
 */

const redactor = compileRedactor({ detectors: DEFAULT_REDACTION_DETECTORS, custom: [], jsonFields: ["password"], mask: { char: "*" } });
const BODY = Buffer.from(
  JSON.stringify({ users: Array.from({ length: 500 }, (_, i) => ({ id: i, password: `pw${i}`, card: "4111 1111 1111 1111" })) }),
);
const EXPECTED = redactor.redact(BODY, true).body;
const LIMIT = 1 << 20;

describe("compressed responses", () => {
  it("decode, redact and re-encode a whole body in each encoding", () => {
    for (const header of ["gzip", "x-gzip", "deflate", "br"]) {
      const encoding = parseContentEncoding(header);
      if (typeof encoding !== "string" || encoding === "identity") throw new Error(`unexpected ${JSON.stringify(encoding)}`);
      const upstream = encodeBody(BODY, encoding);
      const redacted = encodeBody(redactor.redact(decodeBody(upstream, encoding, LIMIT), true).body, encoding);
      expect(decodeBody(redacted, encoding, LIMIT).equals(EXPECTED)).toBe(true);
      expect(redacted.toString("latin1")).not.toContain("4111 1111 1111 1111");
    }
  });

  it("decode, redact and re-encode a streamed body chunk by chunk", async () => {
    const upstream = zlib.gzipSync(BODY);
    const decoder = streamDecoder("gzip", LIMIT);
    const stream = redactor.stream(true);
    const encoder = streamEncoder("gzip");
    const out: Buffer[] = [];
    for (let at = 0; at < upstream.length; at += 1000) {
      const plain = await decoder.push(upstream.subarray(at, at + 1000));
      out.push(await encoder.push(stream.push(plain).body));
    }
    out.push(await encoder.push(Buffer.concat([stream.push(await decoder.end()).body, stream.end().body])));
    out.push(await encoder.end());
    expect(zlib.gunzipSync(Buffer.concat(out)).equals(EXPECTED)).toBe(true);
  });
});
