/** `lowercase`: ASCII and Latin-1 letters to lower case. */
export function lowercase(input: string): string {
  return input.toLowerCase();
}
