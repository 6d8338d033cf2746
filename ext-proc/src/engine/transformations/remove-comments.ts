/** `remove_comments` leaves a value without these unchanged. */
export const REMOVE_COMMENTS_CHANGES = /\/\*|\*\//;

/**
 * `remove_comments`: SQL/C block comments become a space (`UNION/**\/SELECT` → `UNION SELECT`).
 * MySQL executes the body of `/*! ... *\/` and `/*!50000 ... *\/`, so for those only the markers go.
 * An unterminated comment runs to the end of the value, as it does in SQL.
 */
export function removeComments(input: string): string {
  if (!REMOVE_COMMENTS_CHANGES.test(input)) return input;
  let out = "";
  let i = 0;
  while (i < input.length) {
    const open = input.indexOf("/*", i);
    if (open < 0) {
      out += input.slice(i);
      break;
    }
    out += input.slice(i, open) + " ";
    let bodyStart = open + 2;
    if (input.charCodeAt(bodyStart) === 33) {
      bodyStart++;
      while (bodyStart < input.length && input.charCodeAt(bodyStart) >= 48 && input.charCodeAt(bodyStart) <= 57) bodyStart++;
      i = bodyStart;
      continue;
    }
    const close = input.indexOf("*/", bodyStart);
    i = close < 0 ? input.length : close + 2;
  }
  return out.replaceAll("*/", " ");
}
