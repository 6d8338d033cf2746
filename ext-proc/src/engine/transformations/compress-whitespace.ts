// Also folds the non-breaking space (0xA0) and vertical tab, which parsers treat as blanks.
const BLANKS = /[\s\v\u00a0]+/g;

/** `compress_whitespace`: every run of whitespace becomes one space. */
export function compressWhitespace(input: string): string {
  return input.replace(BLANKS, " ");
}
