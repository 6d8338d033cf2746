/**
 * Keeps the memory of streamed bodies bounded in practice, not only in what a stream retains.
 *
 * Every body message passes through a few short-lived buffers: grpc-js's copy of the framed
 * message on the way in, the redaction window, the encoded answer and grpc-js's framed copy of it
 * on the way out. Each is an ArrayBuffer of its own, outside V8's heap, and V8 frees it only at
 * its next young-generation collection, which it starts once about 32 MB of such buffers have
 * piled up (twice its largest semi-space) unless the JavaScript heap fills first, and a stream
 * of 64 KiB chunks allocates little of that. A 100 MiB response streamed through a fresh server
 * grew its RSS by 27-37 MiB this way. Asking V8 for a young-generation collection after every MiB
 * of large received messages (ext-proc-service.ts counts those over 4 KiB) brought that
 * to 8-12 MiB, at under a millisecond per collection when, as here, nearly all of it is garbage.
 * Ordinary API traffic (small messages) never triggers one.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** V8's gc() of --expose-gc, with its options argument. */
export type Collect = (options?: { type: "minor" | "major"; execution: "sync" }) => void;

/**
 * V8's gc() without the --expose-gc command-line flag: the flag is set for one new context, that
 * context's gc taken, and the flag cleared again. Undefined when this V8 does not provide it.
 */
export function exposeGc(): Collect | undefined {
  setFlagsFromString("--expose-gc");
  try {
    const gc: unknown = runInNewContext("gc");
    return typeof gc === "function" ? (gc as Collect) : undefined;
  } finally {
    setFlagsFromString("--no-expose-gc");
  }
}

/** Default: a young-generation collection after every MiB of received messages. */
const COLLECT_EVERY_BYTES = 1024 * 1024;

export class TransientMemory {
  private since = 0;
  /** Young-generation collections requested so far. */
  collections = 0;

  /**
   * `collect` defaults to V8's own, taken here: for the service's instance, when the server
   * starts, never on a live request. Without it (a V8 that does not provide gc()) messages are
   * only counted.
   */
  constructor(
    private readonly everyBytes = COLLECT_EVERY_BYTES,
    private readonly collect: Collect | undefined = exposeGc(),
  ) {}

  /** Counts a received message's bytes; collects once `everyBytes` have arrived since the last. */
  received(bytes: number): void {
    this.since += bytes;
    if (this.since < this.everyBytes) return;
    this.since = 0;
    if (this.collect === undefined) return;
    this.collections += 1;
    this.collect({ type: "minor", execution: "sync" });
  }
}
