/** Longest value remembered; longer ones are rarely repeated and would cost memory. */
const CLEAN_VALUE_MAX_LENGTH = 512;
/** Values remembered per plan; when full the memory starts over. */
const CLEAN_VALUES_PER_PLAN = 4096;

/**
 * Values one plan has scanned without a single hit. Scanning is a pure function of the plan and
 * the value, so a value seen clean once is clean again: the same User-Agent, Host or cookie on
 * every request then costs one lookup. Only hit-free scans that did not run out of decode passes
 * are remembered; bounded in count and length.
 */
export class CleanValues {
  private readonly values = new Set<string>();

  has(value: string): boolean {
    // Longer values are never remembered; hashing them only to miss would cost O(length).
    return value.length <= CLEAN_VALUE_MAX_LENGTH && this.values.has(value);
  }

  add(value: string): void {
    if (value.length > CLEAN_VALUE_MAX_LENGTH) return;
    if (this.values.size >= CLEAN_VALUES_PER_PLAN) this.values.clear();
    this.values.add(value);
  }
}
