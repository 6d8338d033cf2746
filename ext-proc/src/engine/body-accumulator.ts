/** Bytes of the previous chunk kept and scanned again with the next, to find attacks split across chunks. */
export const CHUNK_OVERLAP_BYTES = 4096;

/** A body kept up to the limit; `window` gives the newest bytes plus an overlap with the previous ones. */
export class BodyAccumulator {
  private readonly chunks: Buffer[] = [];
  /** Bytes accepted so far (counted against the limit). */
  private length = 0;
  /** Bytes still held in `chunks`. */
  private held = 0;

  constructor(
    private readonly limit: number,
    /** Keep the whole body for parsing; otherwise only what the next chunk's overlap needs. */
    private readonly retainAll: boolean,
  ) {}

  /** Bytes accepted so far: the offset the next chunk starts at. */
  get received(): number {
    return this.length;
  }

  get full(): boolean {
    return this.length >= this.limit;
  }

  append(chunk: Buffer): number {
    const room = this.limit - this.length;
    if (room <= 0 || chunk.length === 0) return 0;
    const piece = chunk.length <= room ? chunk : chunk.subarray(0, room);
    if (!this.retainAll) {
      // Drop what neither this chunk's window nor the next chunk's overlap can reach.
      let first = this.chunks[0];
      while (first && this.held - first.length >= CHUNK_OVERLAP_BYTES) {
        this.chunks.shift();
        this.held -= first.length;
        first = this.chunks[0];
      }
    }
    this.chunks.push(piece);
    this.length += piece.length;
    this.held += piece.length;
    return piece.length;
  }

  window(newest: number, overlap: number): string {
    let need = newest + overlap;
    const parts: Buffer[] = [];
    for (let k = this.chunks.length - 1; k >= 0 && need > 0; k--) {
      const chunk = this.chunks[k];
      if (!chunk) break;
      const piece = chunk.length <= need ? chunk : chunk.subarray(chunk.length - need);
      parts.push(piece);
      need -= piece.length;
    }
    parts.reverse();
    return (parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts)).toString("latin1");
  }

  /** Bytes [from, to) of a body kept whole, as a byte string; walks back from the newest chunk. */
  slice(from: number, to: number): string {
    const parts: Buffer[] = [];
    let end = this.length;
    for (let k = this.chunks.length - 1; k >= 0 && end > from; k--) {
      const chunk = this.chunks[k];
      if (!chunk) break;
      const start = end - chunk.length;
      if (start < to) parts.push(chunk.subarray(Math.max(0, from - start), Math.min(chunk.length, to - start)));
      end = start;
    }
    parts.reverse();
    return (parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts)).toString("latin1");
  }

  text(): string {
    if (this.chunks.length > 1) {
      const joined = Buffer.concat(this.chunks, this.held);
      this.chunks.length = 0;
      this.chunks.push(joined);
    }
    return (this.chunks[0] ?? Buffer.alloc(0)).toString("latin1");
  }
}
