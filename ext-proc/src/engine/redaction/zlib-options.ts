import zlib from "node:zlib";
import type { ContentEncoding } from "./content-encoding.js";
import { RedactionError } from "./redaction-error.js";
import { BROTLI_QUALITY } from "./redaction-limits.js";

/** Options for compressing with `encoding`; brotli gets a quality that costs tens of µs per KiB, not ms. */
export function compressOptions(encoding: ContentEncoding, sizeHint: number): zlib.ZlibOptions | zlib.BrotliOptions {
  if (encoding !== "br") return {};
  return {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: BROTLI_QUALITY,
      ...(sizeHint > 0 ? { [zlib.constants.BROTLI_PARAM_SIZE_HINT]: sizeHint } : {}),
    },
  };
}

/** Turns a zlib failure into `decompression_limit` (the output passed `maxBytes`) or `corrupt_encoding`. */
export function decodeFailure(error: unknown, encoding: ContentEncoding, maxBytes: number): RedactionError {
  if ((error as { code?: unknown } | null)?.code === "ERR_BUFFER_TOO_LARGE") return decompressionLimit(encoding, maxBytes);
  const reason = error instanceof Error ? error.message : String(error);
  return new RedactionError("corrupt_encoding", `${encoding} body does not decode: ${reason}`, { cause: error });
}

export function decompressionLimit(encoding: ContentEncoding, maxBytes: number): RedactionError {
  return new RedactionError("decompression_limit", `${encoding} body inflates past maxDecompressedBytes = ${maxBytes}; not followed`);
}
