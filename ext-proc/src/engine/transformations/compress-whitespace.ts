// Also folds the non-breaking space (0xA0) and vertical tab, which parsers treat as blanks.
const BLANKS = /[\s\v\u00a0]+/g;

/** `compress_whitespace`: every run of whitespace becomes one space. */
// Anything BLANKS would change: a blank other than a space, or a space followed by a blank.
export const COMPRESS_WHITESPACE_CHANGES = /[\t-\r\u00a0]| [\s\v\u00a0]/;

export function compressWhitespace(input: string): string {
  return COMPRESS_WHITESPACE_CHANGES.test(input) ? input.replace(BLANKS, " ") : input;
}
