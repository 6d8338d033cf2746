/** Longest value remembered; longer ones are rarely repeated and would cost memory. */
export const CLEAN_VALUE_MAX_LENGTH = 512;
/** Values remembered per plan; when full the memory starts over. */
export const CLEAN_VALUES_PER_PLAN = 4096;
/** Slots of the table in front of the set (a power of two). */
const FRONT_SLOTS = 512;

/**
 * The front-table slot of a value: from its length and three of its characters, not a hash of
 * all of them. Constant time whatever the length; `| 0` turns the NaN of an empty value into 0.
 */
function frontSlot(value: string): number {
  const n = value.length;
  return (n * 31 + (value.charCodeAt(0) | 0) * 7 + (value.charCodeAt(n >> 1) | 0) * 3 + (value.charCodeAt(n - 1) | 0)) & (FRONT_SLOTS - 1);
}

/**
 * A copy of `value` that holds only its own characters. A value cut from a request (`slice`) may
 * be a view into the whole body or header string, and remembering the view would keep all of that
 * alive: up to CLEAN_VALUES_PER_PLAN request bodies per plan. Concatenating one character makes a
 * new string, and cutting it off again flattens that into a string of length + 1.
 */
function ownCopy(value: string): string {
  return ` ${value}`.slice(1);
}

/**
 * Values one plan has scanned without a single hit. Scanning is a pure function of the plan and
 * the value, so a value seen clean once is clean again: the same User-Agent, Host or cookie on
 * every request then costs one lookup. Only hit-free scans that did not run out of decode passes
 * are remembered; bounded in count and length, each kept as a copy of its own (see `ownCopy`).
 *
 * The values looked up are new strings on every request (cut from its headers and body), and V8
 * hashes a string in full the first time it is looked up in a Set or Map: about 50 ns a value, a few
 * percent of what a whole request costs the server. So a direct-mapped table sits in front of the
 * set: one recent clean value per slot, the slot picked from the value's length and three of its
 * characters. A value equal (===, all of it compared) to the one in its slot is in the set; any
 * other is looked up there (hashed, as before), and a hit puts the set's copy in the slot. The
 * table only ever holds the set's own copies, and is emptied with it. It is made at the first value
 * remembered: an engine has a plan for every source and named target, and most never see a value.
 */
export class CleanValues {
  /** Each remembered value, mapped to the copy of it that is kept (and put in the front table). */
  private readonly values = new Map<string, string>();
  private front: (string | undefined)[] | undefined;

  has(value: string): boolean {
    // Longer values are never remembered; hashing them only to miss would cost O(length).
    const front = this.front;
    if (front === undefined || value.length > CLEAN_VALUE_MAX_LENGTH) return false;
    const slot = frontSlot(value);
    if (front[slot] === value) return true;
    const kept = this.values.get(value);
    if (kept === undefined) return false;
    front[slot] = kept;
    return true;
  }

  add(value: string): void {
    if (value.length > CLEAN_VALUE_MAX_LENGTH) return;
    const front = (this.front ??= new Array<string | undefined>(FRONT_SLOTS).fill(undefined));
    if (this.values.size >= CLEAN_VALUES_PER_PLAN) {
      this.values.clear();
      front.fill(undefined);
    }
    const kept = ownCopy(value);
    this.values.set(kept, kept);
    front[frontSlot(kept)] = kept;
  }
}
