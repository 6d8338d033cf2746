// `$IFS`, `${IFS}`, `$IFS$9` stand for a blank in sh. Other parameter expansions (`$@`, `$1`,
// `${x}`, `$junk`) are dropped: attackers rely on unset variables expanding to nothing.
const IFS = /\$\{?IFS\}?(?:\$\d)?/gi;
const EXPANSIONS = /\$(?:[@*\d]|\{[@*\d]?\}|\{[a-z_]\w*\}|[a-z_]\w*)/gi;

/**
 * `cmd_line`: undoes shell and cmd.exe obfuscation: quotes, backslashes and carets inside words
 * are dropped, `$IFS` and `,` (a cmd.exe separator, and sh brace expansion) become a space,
 * other expansions vanish, newlines become `;` (they separate commands), runs of blanks collapse
 * to one space, and the result is lower-cased.
 */
export function cmdLine(input: string): string {
  const s = input.indexOf("$") < 0 ? input : input.replace(IFS, " ").replace(EXPANSIONS, "");
  let out = "";
  let blank = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34 || c === 39 || c === 92 || c === 94) continue; // " ' \ ^
    if (c === 10 || c === 13) {
      out += ";";
      blank = false;
      continue;
    }
    if (c === 32 || c === 9 || c === 11 || c === 12 || c === 44) {
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
