/**
 * The accumulator hands out byte strings cut from one cached conversion: whatever range is asked,
 * in whatever order, the answer must be the bytes a fresh conversion gives.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BodyAccumulator, CHUNK_OVERLAP_BYTES } from "../../ext-proc/src/engine/body-accumulator.js";
import { sniffKind } from "../../ext-proc/src/engine/request-body.js";

function filled(body: Buffer, cuts: readonly number[], retainAll = true, limit = 1 << 20): BodyAccumulator {
  const accumulator = new BodyAccumulator(limit, retainAll);
  const edges = [0, ...cuts, body.length];
  for (let k = 0; k + 1 < edges.length; k++) accumulator.append(body.subarray(edges[k], edges[k + 1]));
  return accumulator;
}

const bytes = fc.uint8Array({ minLength: 1, maxLength: 200 }).map((a) => Buffer.from(a));

describe("BodyAccumulator", () => {
  it("gives the same bytes for any sequence of slices and byte probes", () => {
    fc.assert(
      fc.property(
        bytes.chain((body) =>
          fc.tuple(
            fc.constant(body),
            fc.uniqueArray(fc.integer({ min: 1, max: body.length }), { maxLength: 4 }).map((c) => c.sort((a, b) => a - b)),
            fc.array(fc.tuple(fc.nat(body.length + 2), fc.nat(body.length + 2)), { maxLength: 12 }),
          ),
        ),
        ([body, cuts, ranges]) => {
          const accumulator = filled(body, cuts);
          const whole = body.toString("latin1");
          const probe = (): void => {
            for (const [a, b] of ranges) {
              const from = Math.min(a, b);
              const to = Math.max(a, b);
              expect(accumulator.slice(from, to)).toBe(whole.slice(from, to));
              expect(accumulator.byteAt(from)).toBe(whole.charCodeAt(from));
            }
          };
          probe();
          expect(accumulator.text()).toBe(whole);
          probe();
        },
      ),
      { numRuns: 500 },
    );
  });

  it("hands out a window's bytes only when they are its UTF-8 encoding: in one chunk, all ASCII", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 300 }).chain((a) =>
          fc.tuple(
            // Mostly ASCII, so both answers are common.
            fc.constant(Buffer.from(a.map((b) => (b % 5 === 0 ? b : b & 0x7f)))),
            fc.uniqueArray(fc.integer({ min: 1, max: a.length }), { maxLength: 3 }).map((c) => c.sort((x, y) => x - y)),
            fc.boolean(),
            fc.nat(300),
            fc.nat(300),
          ),
        ),
        ([body, cuts, retainAll, newest, overlap]) => {
          const accumulator = filled(body, cuts, retainAll);
          const window = accumulator.window(newest, overlap);
          // Nothing is dropped from a body this short: the window is its last newest + overlap bytes.
          expect(window).toBe(body.subarray(Math.max(0, body.length - newest - overlap)).toString("latin1"));
          const windowBytes = accumulator.windowBytes(newest, overlap);
          // A cut at the very end appends nothing: the last chunk starts at the last cut before it.
          const lastChunk = body.length - Math.max(0, ...cuts.filter((c) => c < body.length));
          const inLastChunk = window.length <= lastChunk;
          const ascii = [...window].every((c) => c.charCodeAt(0) < 0x80);
          if (inLastChunk && ascii) expect(windowBytes?.toString("latin1")).toBe(window);
          else expect(windowBytes).toBeUndefined();
          if (windowBytes) expect(windowBytes.equals(Buffer.from(window, "utf8"))).toBe(true);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("hands out only a window's own UTF-8 encoding, also past the overlap and at the body limit", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 * CHUNK_OVERLAP_BYTES }).chain((length) =>
          fc.tuple(
            fc.boolean().map((ascii) => Buffer.alloc(length, ascii ? 0x61 : 0xe9)),
            fc.uniqueArray(fc.integer({ min: 1, max: length }), { maxLength: 4 }).map((c) => c.sort((x, y) => x - y)),
            fc.boolean(),
            fc.integer({ min: 1, max: 4 * CHUNK_OVERLAP_BYTES }),
            fc.nat(length),
          ),
        ),
        ([body, cuts, retainAll, limit, newest]) => {
          const accumulator = filled(body, cuts, retainAll, limit);
          const window = accumulator.window(newest, CHUNK_OVERLAP_BYTES);
          const windowBytes = accumulator.windowBytes(newest, CHUNK_OVERLAP_BYTES);
          if (windowBytes) expect(windowBytes.equals(Buffer.from(window, "utf8"))).toBe(true);
          if (body[0] !== 0x61) expect(windowBytes).toBeUndefined();
          // One piece, all ASCII: always handed out.
          if (cuts.length === 0 && body[0] === 0x61) expect(windowBytes?.length).toBe(Math.min(body.length, limit, newest + CHUNK_OVERLAP_BYTES));
        },
      ),
      { numRuns: 300 },
    );
  });

  it("cuts a range inside the last slice from it, and reads one byte without converting", () => {
    const accumulator = filled(Buffer.from("0123456789abcdef", "latin1"), [4, 9]);
    expect(accumulator.slice(2, 14)).toBe("23456789abcd");
    expect(accumulator.slice(5, 10)).toBe("56789");
    expect(accumulator.byteAt(0)).toBe(0x30);
    expect(accumulator.byteAt(15)).toBe(0x66);
    expect(Number.isNaN(accumulator.byteAt(16))).toBe(true);
    expect(accumulator.slice(0, 16)).toBe("0123456789abcdef");
  });

  it("does not serve bytes that arrived after a slice that asked past the end", () => {
    const accumulator = new BodyAccumulator(1 << 20, true);
    accumulator.append(Buffer.from("hello", "latin1"));
    expect(accumulator.slice(0, 10)).toBe("hello");
    accumulator.append(Buffer.from(" world", "latin1"));
    expect(accumulator.slice(3, 8)).toBe("lo wo");
    expect(accumulator.slice(0, 10)).toBe("hello worl");
  });

  it("keeps windows right once old chunks are dropped", () => {
    const chunk = (c: string): Buffer => Buffer.alloc(CHUNK_OVERLAP_BYTES, c);
    const accumulator = new BodyAccumulator(1 << 20, false);
    for (const c of ["a", "b", "c"]) accumulator.append(chunk(c));
    expect(accumulator.window(CHUNK_OVERLAP_BYTES, CHUNK_OVERLAP_BYTES)).toBe("b".repeat(CHUNK_OVERLAP_BYTES) + "c".repeat(CHUNK_OVERLAP_BYTES));
    accumulator.append(Buffer.from("d", "latin1"));
    expect(accumulator.window(1, 2)).toBe("ccd");
  });
});

describe("sniffKind", () => {
  it("tells a body's kind by its start", () => {
    expect(sniffKind('  {"a": 1}')).toBe("json");
    expect(sniffKind("[1]")).toBe("json");
    expect(sniffKind("\n<a/>")).toBe("xml");
    expect(sniffKind("a=1&b=two")).toBe("form");
    expect(sniffKind("hello world")).toBe("unknown");
    expect(sniffKind("")).toBe("unknown");
  });
});
