/** `trim` leaves a value without these unchanged. */
export const TRIM_CHANGES = /^\s|\s$/;

/** `trim`: drops leading and trailing whitespace. */
export function trim(input: string): string {
  return input.trim();
}
