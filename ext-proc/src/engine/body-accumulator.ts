import { isAscii } from "node:buffer";

/** Bytes of the previous chunk kept and scanned again with the next, to find attacks split across chunks. */
export const CHUNK_OVERLAP_BYTES = 4096;

/** A body kept up to the limit; `window` gives the newest bytes plus an overlap with the previous ones. */
export class BodyAccumulator {
  private readonly chunks: Buffer[] = [];
  /** Bytes accepted so far (counted against the limit). */
  private length = 0;
  /** Bytes still held in `chunks`. */
  private held = 0;
  /** The last byte string made from the body, by absolute range; ranges inside it are cut from it. */
  private cached: { readonly from: number; readonly to: number; readonly text: string } | undefined;

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

  /** The newest `newest` bytes and up to `overlap` before them, as a byte string. */
  window(newest: number, overlap: number): string {
    const to = this.length;
    return this.slice(this.windowStart(newest, overlap), to);
  }

  /**
   * The bytes of `window(newest, overlap)` when they lie in one chunk and are all ASCII: then they
   * are exactly the UTF-8 encoding of the byte string, and a scan can take them as they are instead
   * of encoding the string again. Undefined otherwise (the caller encodes). A view of the appended
   * chunk, not a copy: it says what the window holds as long as the chunk's owner leaves those
   * bytes unchanged, which the engine needs only until the end of the phase that appended them.
   */
  windowBytes(newest: number, overlap: number): Buffer | undefined {
    const from = this.windowStart(newest, overlap);
    const last = this.chunks[this.chunks.length - 1];
    if (!last) return undefined;
    const lastStart = this.length - last.length;
    if (lastStart > from) return undefined;
    const bytes = from === lastStart ? last : last.subarray(from - lastStart);
    return isAscii(bytes) ? bytes : undefined;
  }

  private windowStart(newest: number, overlap: number): number {
    const to = this.length;
    return Math.max(to - this.held, to - newest - overlap);
  }

  /** Bytes [from, to) of a body kept whole, as a byte string; walks back from the newest chunk. */
  slice(from: number, to: number): string {
    // Bytes once received never change: a range inside the cached one is a piece of that string.
    // A body that comes in one message is read as the raw-body window and then by its parser (and
    // its sniffed head): one conversion for all.
    const cached = this.cached;
    if (cached !== undefined && cached.from <= from && to <= cached.to) return cached.text.slice(from - cached.from, to - cached.from);
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
    const text = (parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts)).toString("latin1");
    // Cached under the range it holds (bytes not held are missing from it), so pieces cut from it
    // later start at the right offset.
    const heldFrom = Math.max(from, this.length - this.held);
    const heldTo = Math.min(to, this.length);
    if (heldFrom < heldTo) this.cached = { from: heldFrom, to: heldTo, text };
    return text;
  }

  /**
   * The byte at `offset` of a body kept whole, or NaN when it is not held (as `charCodeAt` past
   * the end). Read in place: a one-byte probe must not replace the cached string.
   */
  byteAt(offset: number): number {
    const cached = this.cached;
    if (cached !== undefined && cached.from <= offset && offset < cached.to) return cached.text.charCodeAt(offset - cached.from);
    let end = this.length;
    for (let k = this.chunks.length - 1; k >= 0 && end > offset; k--) {
      const chunk = this.chunks[k];
      if (!chunk) break;
      const start = end - chunk.length;
      if (start <= offset) return chunk[offset - start] ?? Number.NaN;
      end = start;
    }
    return Number.NaN;
  }

  /** Every byte still held, as a byte string. */
  text(): string {
    // slice joins the chunks itself and caches the result; when the cache already covers the body
    // nothing is joined at all.
    return this.slice(this.length - this.held, this.length);
  }
}
