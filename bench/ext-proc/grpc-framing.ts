/**
 * gRPC's framing of messages on an HTTP/2 stream (a 5-byte prefix: compressed flag, length), for
 * the benchmark's hand-made servers and clients.
 */

/** Encoded bytes with gRPC's 5-byte prefix (uncompressed, length), in one allocation. */
export function withGrpcPrefix(bytes: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(5 + bytes.length);
  frame[0] = 0;
  frame.writeUInt32BE(bytes.length, 1);
  frame.set(bytes, 5);
  return frame;
}

/** Length-prefixed gRPC messages out of DATA chunks that may split or join them. */
export class GrpcMessageReader {
  /** Received bytes not yet part of a returned message, joined only once a message is complete. */
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** `maxBytes`: the longest message accepted; a longer prefix throws a RangeError. */
  constructor(private readonly maxBytes = Infinity) {}

  /** The whole messages completed by `chunk`; throws on a compressed or oversized one. */
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const messages: Buffer[] = [];
    while (this.buffered >= 5) {
      const head = this.head();
      if (head[0] !== 0) throw new Error("compressed messages are not supported");
      const length = head.readUInt32BE(1);
      if (length > this.maxBytes) throw new RangeError(`message of ${length} bytes`);
      if (this.buffered < 5 + length) break;
      const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
      messages.push(all.subarray(5, 5 + length));
      const rest = all.subarray(5 + length);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
    }
    return messages;
  }

  /** Whether part of a message is still waiting for the rest of it. */
  get partial(): boolean {
    return this.buffered > 0;
  }

  /** The first five buffered bytes (the prefix), joined if a chunk edge cuts them. */
  private head(): Buffer {
    const first = this.chunks[0]!;
    return first.length >= 5 ? first : Buffer.concat(this.chunks, this.buffered).subarray(0, 5);
  }
}
