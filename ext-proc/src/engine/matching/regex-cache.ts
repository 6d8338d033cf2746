import RE2 from "re2";

/**
 * Compiled RE2 objects shared across engines and policy reloads, keyed by flags and source, so a
 * reload that keeps most rules compiles only what changed.
 */
const singles = new Map<string, RE2>();

/** One pattern compiled alone: used to validate it, to find the matched text, and as fallback. */
export function compileSingle(pattern: string, flags: string): RE2 {
  const key = `${flags}\u0000${pattern}`;
  let re = singles.get(key);
  if (!re) {
    re = new RE2(pattern, flags);
    singles.set(key, re);
  }
  return re;
}

/** Patterns per RE2.Set; bigger groups are split so each set's DFA stays small and fast. */
const MAX_SET_PATTERNS = 128;
/** DFA memory per set; past it RE2 reports an error, and the scan falls back to single patterns. */
const SET_MAX_MEMORY = 64 * 1024 * 1024;

/** Several RE2.Sets standing for one pattern list, with the single patterns as a fallback. */
export class PatternSet {
  private readonly sets: { readonly set: InstanceType<typeof RE2.Set>; readonly offset: number }[] = [];
  private readonly singles: RE2[];

  constructor(patterns: readonly string[], flags: string) {
    this.singles = patterns.map((p) => compileSingle(p, flags));
    this.build(patterns, flags, 0);
  }

  private build(patterns: readonly string[], flags: string, offset: number): void {
    if (patterns.length > MAX_SET_PATTERNS) {
      const half = Math.ceil(patterns.length / 2);
      this.build(patterns.slice(0, half), flags, offset);
      this.build(patterns.slice(half), flags, offset + half);
      return;
    }
    try {
      this.sets.push({ set: new RE2.Set(patterns, flags, { maxMem: SET_MAX_MEMORY }), offset });
    } catch (error) {
      // Too large to compile as one program: halve it. A single pattern that fails was already
      // rejected by compileSingle, so this only ever splits.
      if (patterns.length <= 1) throw error;
      const half = Math.ceil(patterns.length / 2);
      this.build(patterns.slice(0, half), flags, offset);
      this.build(patterns.slice(half), flags, offset + half);
    }
  }

  /** RE2.Set objects this stands for (more than one when the list was split). */
  get setCount(): number {
    return this.sets.length;
  }

  /** Indexes (into the pattern list) of every pattern that matches somewhere in `input`. */
  match(input: Buffer): number[] {
    if (this.sets.length === 1) {
      const only = this.sets[0];
      if (only) {
        try {
          return only.set.match(input);
        } catch {
          return this.matchSingly(input, only.offset, only.set.size);
        }
      }
    }
    const hits: number[] = [];
    for (const { set, offset } of this.sets) {
      let found: number[];
      try {
        found = set.match(input);
      } catch {
        found = this.matchSingly(input, offset, set.size).map((i) => i - offset);
      }
      for (const i of found) hits.push(i + offset);
    }
    return hits;
  }

  /** The safe path when a set's DFA runs out of memory: every pattern on its own. */
  private matchSingly(input: Buffer, offset: number, size: number): number[] {
    const hits: number[] = [];
    for (let i = offset; i < offset + size; i++) if (this.singles[i]?.test(input)) hits.push(i);
    return hits;
  }
}

const sets = new Map<string, PatternSet>();

/** A shared PatternSet for exactly this list of patterns and flags. */
export function sharedPatternSet(patterns: readonly string[], flags: string): PatternSet {
  const key = `${flags}\u0000${patterns.join("\u0001")}`;
  let set = sets.get(key);
  if (!set) {
    set = new PatternSet(patterns, flags);
    sets.set(key, set);
  }
  return set;
}

/** RE2.Set objects compiled so far across every engine: what idle memory grows with. */
export function compiledSetCount(): number {
  let count = 0;
  for (const set of sets.values()) count += set.setCount;
  return count;
}
