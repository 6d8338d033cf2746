/**
 * Redaction of one response body, in whichever way Envoy delivers it: the whole body at once
 * (BUFFERED: replaced in one answer, content-length fixed), or chunks (STREAMED, FULL_DUPLEX:
 * each answer carries the redacted bytes that are safe to release; a bounded tail is held back in
 * case it starts a secret that the next chunk completes). Compressed bodies are decoded within the
 * policy's limit, redacted, then re-encoded or sent without content-encoding.
 */
import {
  decodeBody,
  encodeBody,
  parseContentEncoding,
  RedactionError,
  streamDecoder,
  streamEncoder,
  type ContentEncoding,
  type RedactionHit,
  type StreamCodec,
  type StreamRedactor,
} from "../engine/redaction/index.js";
import type { ResponseHead } from "../engine/types.js";
import type { CompiledRedaction } from "../policy/active-policy.js";
import { mediaType } from "../engine/media-type.js";
import { isJsonType } from "../policy/media-type.js";
import { headerValue } from "./header-codec.js";

export interface BufferedRedaction {
  readonly body: Buffer;
  readonly hits: readonly RedactionHit[];
  /** Headers to remove from the response (content-encoding when sent decoded). */
  readonly removeHeaders: readonly string[];
}

export interface ChunkRedaction {
  readonly body: Buffer;
  readonly hits: readonly RedactionHit[];
}

export class ResponseRedaction {
  private stream: StreamRedactor | undefined;
  private decoder: StreamCodec | undefined;
  private encoder: StreamCodec | undefined;

  private constructor(
    private readonly redaction: CompiledRedaction,
    private readonly encoding: ContentEncoding | undefined,
    private readonly json: boolean,
  ) {}

  /**
   * Whether this response is redacted. Responses that announce trailers are not: Envoy gives no
   * end-of-body marker before trailers, so a held-back tail could never be released.
   * Throws RedactionError `unsupported_encoding` for an encoding meshrasp cannot decode.
   */
  static begin(redaction: CompiledRedaction | undefined, head: ResponseHead): ResponseRedaction | undefined {
    if (redaction === undefined) return undefined;
    const contentType = headerValue(head.headers, "content-type")?.toString("latin1");
    if (!redaction.appliesTo(contentType) || mediaType(contentType).startsWith("application/grpc")) return undefined;
    if (headerValue(head.headers, "trailer") !== undefined) return undefined;
    const encoding = parseContentEncoding(headerValue(head.headers, "content-encoding")?.toString("latin1"));
    if (typeof encoding === "object") {
      if (redaction.compressed === "skip") return undefined;
      throw new RedactionError("unsupported_encoding", `content-encoding "${encoding.unsupported}" cannot be decoded for redaction`);
    }
    if (encoding !== "identity" && redaction.compressed === "skip") return undefined;
    return new ResponseRedaction(redaction, encoding === "identity" ? undefined : encoding, isJsonType(contentType));
  }

  /** Headers the response headers answer must drop when the body will be sent decoded. */
  headersToRemove(): string[] {
    return this.encoding !== undefined && this.redaction.compressed === "identity" ? ["content-encoding"] : [];
  }

  /** The decoded body (for inspection) of a whole, possibly compressed, body. */
  decodeWhole(body: Buffer): Buffer {
    return this.encoding === undefined ? body : decodeBody(body, this.encoding, this.redaction.maxDecompressedBytes);
  }

  /** BUFFERED: the replacement body, or undefined when nothing needed redacting (sent as it was). */
  redactWhole(decoded: Buffer): BufferedRedaction | undefined {
    const result = this.redaction.redactor.redact(decoded, this.json);
    if (result.hits.length === 0) return undefined;
    const recompress = this.encoding !== undefined && this.redaction.compressed === "recompress";
    return {
      body: recompress ? encodeBody(result.body, this.encoding!) : result.body,
      hits: result.hits,
      removeHeaders: this.headersToRemove(),
    };
  }

  /** STREAMED / FULL_DUPLEX, decoding step: the plain bytes of this chunk (async when compressed). */
  decodeChunk(chunk: Buffer, last: boolean): Buffer | Promise<Buffer> {
    if (this.encoding === undefined) return chunk;
    this.decoder ??= streamDecoder(this.encoding, this.redaction.maxDecompressedBytes);
    const decoder = this.decoder;
    return decoder.push(chunk).then(async (out) => (last ? Buffer.concat([out, await decoder.end()]) : out));
  }

  /** STREAMED / FULL_DUPLEX, redaction step: the bytes to send in place of this chunk. */
  redactChunk(plain: Buffer, last: boolean): ChunkRedaction | Promise<ChunkRedaction> {
    this.stream ??= this.redaction.redactor.stream(this.json);
    const { body, hits } = last ? this.stream.last(plain) : this.stream.push(plain);
    if (this.encoding === undefined || this.redaction.compressed !== "recompress") return { body, hits };
    this.encoder ??= streamEncoder(this.encoding);
    const encoder = this.encoder;
    return encoder.push(body).then(async (out) => ({ body: last ? Buffer.concat([out, await encoder.end()]) : out, hits }));
  }
}
