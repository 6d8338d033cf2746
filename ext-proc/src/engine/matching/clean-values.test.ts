import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exposeGc } from "../../server/transient-memory.js";
import { CLEAN_VALUE_MAX_LENGTH, CLEAN_VALUES_PER_PLAN, CleanValues } from "./clean-values.js";

/** What CleanValues must answer: a bounded set that starts over when full, nothing more. */
class Model {
  private readonly values = new Set<string>();

  has(value: string): boolean {
    return this.values.has(value);
  }

  add(value: string): void {
    if (value.length > CLEAN_VALUE_MAX_LENGTH) return;
    if (this.values.size >= CLEAN_VALUES_PER_PLAN) this.values.clear();
    this.values.add(value);
  }
}

/** New strings with the same content, as each request cuts its own (never the same object). */
const fresh = (value: string): string => ` ${value}`.slice(1);

type Op = { kind: "add" | "has"; value: string } | { kind: "flood"; count: number };

/**
 * Values that share their length and first, middle and last characters (the front table's slot),
 * differing only elsewhere, so that slots are fought over; and a few of other shapes.
 */
const value = fc.oneof(
  fc.constantFrom("a", "", "Mozilla/5.0", "application/json"),
  fc.tuple(fc.constantFrom("1", "2", "3"), fc.constantFrom("4", "5")).map(([x, y]) => `a${x}m${y}z`),
  fc.string({ maxLength: 6 }),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constantFrom("add" as const, "has" as const), value }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("flood" as const), count: fc.integer({ min: 1, max: CLEAN_VALUES_PER_PLAN + 10 }) }) },
);

describe("CleanValues", () => {
  it("answers exactly as a bounded set would, through any sequence of adds, lookups and overflows", () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const clean = new CleanValues();
        const model = new Model();
        let flooded = 0;
        for (const o of ops) {
          if (o.kind === "flood") {
            // Distinct values nothing else uses: they fill the set up to where it starts over.
            for (let k = 0; k < o.count; k++) {
              const filler = `filler-${flooded++}`;
              clean.add(filler);
              model.add(filler);
            }
          } else if (o.kind === "add") {
            clean.add(fresh(o.value));
            model.add(o.value);
          } else {
            expect(clean.has(fresh(o.value)), o.value).toBe(model.has(o.value));
          }
        }
        for (const probe of ["a", "", "Mozilla/5.0", "a1m4z", "a2m4z", "a3m5z"]) expect(clean.has(fresh(probe)), probe).toBe(model.has(probe));
      }),
      { numRuns: 300 },
    );
  });

  it("does not take a value for the one in its slot when they differ only where the slot does not look", () => {
    const clean = new CleanValues();
    clean.add("a1m4z");
    expect(clean.has(fresh("a1m4z"))).toBe(true);
    expect(clean.has("a2m4z")).toBe(false);
    expect(clean.has("a1m4zz")).toBe(false);
  });

  it("forgets every value, front table included, when the set starts over", () => {
    const clean = new CleanValues();
    clean.add("remembered");
    expect(clean.has(fresh("remembered"))).toBe(true);
    for (let k = 0; k < CLEAN_VALUES_PER_PLAN; k++) clean.add(`filler-${k}`);
    expect(clean.has(fresh("remembered"))).toBe(false);
  });

  it("keeps only the values it remembers, not the request bodies they were cut from", () => {
    const gc = exposeGc();
    if (gc === undefined) throw new Error("this V8 gives no gc(): the retention cannot be measured");
    const clean = new CleanValues();
    const collect = (): number => {
      gc({ type: "major", execution: "sync" });
      return process.memoryUsage().heapUsed;
    };
    const before = collect();
    // 200 bodies of 1 MiB, each with one new value (long enough to be cut as a view, not copied).
    for (let k = 0; k < 200; k++) {
      const body = `{"v":"value number ${String(k).padStart(6, "0")}","pad":"${"x".repeat(1 << 20)}"}`;
      const value = body.slice(6, 25);
      clean.add(value);
      expect(clean.has(body.slice(6, 25))).toBe(true);
    }
    const grown = (collect() - before) / (1 << 20);
    // Remembering the views would keep all 200 MiB of bodies alive (measured: 198 MiB). What the
    // copies take is tiny, but the heap of a test worker moves by some MiB on its own (1 MiB in a
    // bare node process, 16 here).
    expect(grown).toBeLessThan(64);
    expect(clean.has("value number 000123")).toBe(true);
  });

  it("never remembers values longer than the bound", () => {
    const clean = new CleanValues();
    const long = "x".repeat(CLEAN_VALUE_MAX_LENGTH + 1);
    clean.add(long);
    expect(clean.has(long)).toBe(false);
  });
});
