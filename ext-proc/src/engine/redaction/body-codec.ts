import zlib from "node:zlib";
import type { ContentEncoding } from "./content-encoding.js";
import { compressOptions, decodeFailure } from "./zlib-options.js";

/**
 * Decompresses a whole body, stopping as soon as the output would pass `maxBytes` (zlib checks
 * as it inflates, so a bomb costs at most `maxBytes` of memory): RedactionError
 * `decompression_limit`. Corrupt or truncated input, or a body that is not in `encoding` at all:
 * `corrupt_encoding`. `deflate` is the zlib format (RFC 9110); raw deflate streams are refused.
 * An empty body stays empty.
 */
export function decodeBody(body: Buffer, encoding: ContentEncoding, maxBytes: number): Buffer {
  if (body.length === 0) return body;
  const options = { maxOutputLength: maxBytes };
  try {
    if (encoding === "gzip") return zlib.gunzipSync(body, options);
    if (encoding === "deflate") return zlib.inflateSync(body, options);
    return zlib.brotliDecompressSync(body, options);
  } catch (error) {
    throw decodeFailure(error, encoding, maxBytes);
  }
}

/** Compresses a whole body with `encoding`. */
export function encodeBody(body: Buffer, encoding: ContentEncoding): Buffer {
  if (encoding === "gzip") return zlib.gzipSync(body);
  if (encoding === "deflate") return zlib.deflateSync(body);
  return zlib.brotliCompressSync(body, compressOptions(encoding, body.length));
}
