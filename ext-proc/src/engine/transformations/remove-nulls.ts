/** `remove_nulls` leaves a value without these unchanged. */
export const REMOVE_NULLS_CHANGES = /\0/;

/** `remove_nulls`: drops NUL bytes, which C-based back ends treat as string ends. */
export function removeNulls(input: string): string {
  return REMOVE_NULLS_CHANGES.test(input) ? input.replaceAll("\0", "") : input;
}
