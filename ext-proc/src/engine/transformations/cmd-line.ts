// `$IFS`, `${IFS}`, `$IFS$9` stand for a blank in sh. Other parameter expansions (`$@`, `$1`,
// `${x}`, `$junk`) are dropped: attackers rely on unset variables expanding to nothing.
const IFS = /\$\{?IFS\}?(?:\$\d)?/gi;
const EXPANSIONS = /\$(?:[@*\d]|\{[@*\d]?\}|\{[a-z_]\w*\}|[a-z_]\w*)/gi;

/** Anything `cmd_line` would change; most values have none of it. */
export const CMD_LINE_CHANGES = /["'\\^,$\t-\r]| {2}|^ | $/;

const DROPPED = /["'\\^]/g;
const NEWLINES = /[\r\n]/g;
const BLANKS = /[ \t\v\f,]+/g;
const EDGE_BLANKS = /^ | $/g;

/**
 * `cmd_line`: undoes shell and cmd.exe obfuscation: quotes, backslashes and carets inside words
 * are dropped, `$IFS` and `,` (a cmd.exe separator, and sh brace expansion) become a space,
 * other expansions vanish, newlines become `;` (they separate commands), runs of blanks collapse
 * to one space and blanks at the edges go. Case is left alone: rules match case-insensitively.
 */
export function cmdLine(input: string): string {
  if (!CMD_LINE_CHANGES.test(input)) return input;
  // Whole-value native replaces: large values are never walked character by character in JS.
  const s = input.indexOf("$") < 0 ? input : input.replace(IFS, " ").replace(EXPANSIONS, "");
  return s.replace(DROPPED, "").replace(NEWLINES, ";").replace(BLANKS, " ").replace(EDGE_BLANKS, "");
}
