// `$IFS`, `${IFS}`, `$IFS$9` stand for a blank in sh; `$@`, `$*`, `$1`..`$9` and `${x}`-free `$u`
// tricks expand to nothing inside a word.
const IFS = /\$\{?IFS\}?(?:\$\d)?/gi;
const EMPTY_EXPANSIONS = /\$[@*\d]|\$\{[@*\d]?\}/g;

/**
 * `cmd_line`: undoes shell and cmd.exe obfuscation: quotes, backslashes and carets inside words
 * are dropped, `$IFS` and friends and `,` (a cmd.exe separator, and sh brace expansion) become a
 * space, runs of blanks collapse to one space, and the result is lower-cased.
 */
export function cmdLine(input: string): string {
  const s = input.replace(IFS, " ").replace(EMPTY_EXPANSIONS, "");
  let out = "";
  let blank = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 || c === 39 || c === 92 || c === 94) continue; // " ' \ ^
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12 || c === 44) {
      blank = true;
      continue;
    }
    if (blank) {
      if (out.length > 0) out += " ";
      blank = false;
    }
    out += s[i];
  }
  return out.toLowerCase();
}
