// Look-alikes of '/' and '\' that IIS-era decoders folded: U+2215, U+2216 and two private-use
// points, as UTF-8 byte strings.
const LOOKALIKES: ReadonlyArray<readonly [string, string]> = [
  ["\u00e2\u0088\u0095", "/"],
  ["\u00e2\u0088\u0096", "\\"],
  ["\u00ef\u0080\u00a5", "/"],
  ["\u00ee\u00bf\u0088", "/"],
];

// Lead bytes of overlong encodings and how many continuation bytes follow each.
const OVERLONG_LEADS: ReadonlyMap<number, number> = new Map([
  [0xc0, 1],
  [0xc1, 1],
  [0xe0, 2],
  [0xf0, 3],
  [0xf8, 4],
  [0xfc, 5],
]);

/** Folds overlong UTF-8 forms of ASCII (`C0 AE` = '.', `E0 80 AF` = '/', `C1 9C` = '\') to ASCII and drops stray lead bytes. */
function foldOverlong(input: string): string {
  let out = "";
  let start = 0;
  for (let i = 0; i < input.length; i++) {
    const count = OVERLONG_LEADS.get(input.charCodeAt(i));
    if (count === undefined || i + 1 >= input.length) continue;
    if (input.charCodeAt(i + 1) < 0x80) {
      // A lead byte followed by ASCII is invalid; lax decoders skip it (`%c0.` is '.').
      out += input.slice(start, i);
      start = i + 1;
      continue;
    }
    if (i + count >= input.length) continue;
    let value = input.charCodeAt(i) & 0x01;
    let ok = true;
    for (let k = 1; k <= count; k++) {
      const c = input.charCodeAt(i + k);
      if (!(c >= 0x80 && c <= 0xbf) || (k < count && c !== 0x80)) ok = false;
      value = (value << 6) | (c & 0x3f);
    }
    if (!ok || value >= 0x80) continue;
    out += input.slice(start, i) + String.fromCharCode(value);
    i += count;
    start = i + 1;
  }
  return out + input.slice(start);
}

function hasHighBytes(input: string): boolean {
  for (let i = 0; i < input.length; i++) if (input.charCodeAt(i) >= 0xc0) return true;
  return false;
}

/**
 * `normalize_path`: folds overlong UTF-8 and look-alike slashes, turns backslashes into slashes,
 * collapses `//` and `/./`, and resolves `name/..`. A `..` that would climb above the start is
 * kept, because that climb is exactly what path traversal rules look for.
 */
// Anything normalisation would change: backslashes, lead bytes of overlong forms, empty, `.` and `..` segments.
export const NORMALIZE_PATH_CHANGES = /[\\\u00c0-\u00ff]|\/\/|(?:^|\/)\.{1,2}(?:\/|$)/;

export function normalizePath(input: string): string {
  if (!NORMALIZE_PATH_CHANGES.test(input)) return input;
  let s = input;
  if (hasHighBytes(s)) {
    s = foldOverlong(s);
    for (const [from, to] of LOOKALIKES) if (s.includes(from)) s = s.replaceAll(from, to);
  }
  if (s.indexOf("\\") >= 0) s = s.replaceAll("\\", "/");
  if (s.indexOf("/") < 0) return s;
  const absolute = s.startsWith("/");
  const out: string[] = [];
  let climbs = 0;
  for (const segment of s.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (out.length > climbs) out.pop();
      else {
        out.push("..");
        climbs++;
      }
      continue;
    }
    out.push(segment);
  }
  const trailing = s.endsWith("/") && out.length > 0 ? "/" : "";
  return (absolute ? "/" : "") + out.join("/") + trailing;
}
