/** `lowercase` leaves a value without these unchanged. */
export const LOWERCASE_CHANGES = /[A-Z\u00c0-\u00de]/;

/** `lowercase`: ASCII and Latin-1 letters to lower case. */
export function lowercase(input: string): string {
  return input.toLowerCase();
}
