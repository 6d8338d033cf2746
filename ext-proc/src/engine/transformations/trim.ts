/** `trim`: drops leading and trailing whitespace. */
export function trim(input: string): string {
  return input.trim();
}
