import zlib from "node:zlib";
import type { Transform } from "node:stream";
import type { ContentEncoding } from "./content-encoding.js";
import { compressOptions, decodeFailure, decompressionLimit } from "./zlib-options.js";

/** A streamed body through a decompressor or compressor: chunk in, chunk out. Calls must not overlap. */
export interface StreamCodec {
  push(chunk: Buffer): Promise<Buffer>;
  end(): Promise<Buffer>;
}

/**
 * Wraps a zlib stream: each call writes, waits until zlib has consumed the input, and returns
 * what came out. Memory: what one chunk inflates to (at most ~1032x for deflate, and never past
 * `maxBytes` in total, where the stream is destroyed) plus zlib's own window.
 */
class ZlibStreamCodec implements StreamCodec {
  private output: Buffer[] = [];
  private total = 0;
  private written = false;
  private failure: Error | undefined;
  private readonly closed: Promise<void>;

  constructor(
    private readonly stream: Transform,
    /** Decompressors only: the output limit and the error that stops the stream past it. */
    private readonly limit: { readonly maxBytes: number; readonly error: () => Error } | undefined,
    private readonly onError: (error: unknown) => Error,
    private readonly flushKind: number | undefined,
  ) {
    stream.on("data", (chunk: Buffer) => {
      this.total += chunk.length;
      if (this.limit && this.total > this.limit.maxBytes) {
        this.failure ??= this.limit.error();
        this.output = [];
        stream.destroy();
        return;
      }
      this.output.push(chunk);
    });
    stream.on("error", (error) => {
      this.failure ??= this.onError(error);
    });
    this.closed = new Promise((resolve) => {
      stream.once("end", resolve);
      stream.once("close", resolve);
    });
  }

  async push(chunk: Buffer): Promise<Buffer> {
    if (chunk.length > 0) {
      this.written = true;
      await this.settle((done) => this.stream.write(chunk, () => done()));
    }
    if (chunk.length > 0 && this.flushKind !== undefined) {
      const kind = this.flushKind;
      await this.settle((done) => (this.stream as unknown as zlib.Zlib).flush(kind, done));
    }
    return this.take();
  }

  /** Ends the body. An empty body stays empty: no gzip header for nothing, no error for no input. */
  async end(): Promise<Buffer> {
    if (!this.written) this.stream.destroy();
    else if (!this.failure) {
      this.stream.end();
      await this.closed;
    }
    return this.take();
  }

  /** Runs `start` and waits for its callback, or for the stream to close (destroyed, failed). */
  private settle(start: (done: () => void) => void): Promise<void> {
    if (this.failure) return Promise.resolve();
    return Promise.race([new Promise<void>((resolve) => start(resolve)), this.closed]);
  }

  private take(): Buffer {
    if (this.failure) throw this.failure;
    const out = this.output.length === 1 ? (this.output[0] ?? Buffer.alloc(0)) : Buffer.concat(this.output);
    this.output = [];
    return out;
  }
}

/** Decompresses a streamed body; rejects with RedactionError `decompression_limit` or `corrupt_encoding`. */
export function streamDecoder(encoding: ContentEncoding, maxBytes: number): StreamCodec {
  const stream = encoding === "gzip" ? zlib.createGunzip() : encoding === "deflate" ? zlib.createInflate() : zlib.createBrotliDecompress();
  return new ZlibStreamCodec(
    stream,
    { maxBytes, error: () => decompressionLimit(encoding, maxBytes) },
    (error) => decodeFailure(error, encoding, maxBytes),
    undefined,
  );
}

/**
 * Compresses a streamed body. Each push is flushed (sync flush), so what was pushed can be sent
 * at once: a streamed response (server-sent events) is not held back by the compressor.
 */
export function streamEncoder(encoding: ContentEncoding): StreamCodec {
  const options = compressOptions(encoding, 0);
  const stream =
    encoding === "gzip" ? zlib.createGzip(options) : encoding === "deflate" ? zlib.createDeflate(options) : zlib.createBrotliCompress(options);
  return new ZlibStreamCodec(
    stream,
    undefined,
    (error) => (error instanceof Error ? error : new Error(String(error))),
    encoding === "br" ? zlib.constants.BROTLI_OPERATION_FLUSH : zlib.constants.Z_SYNC_FLUSH,
  );
}
