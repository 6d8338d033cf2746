// Overlong and IIS-style UTF-8 encodings of '.', '/' and '\' that lax decoders accept.
const OVERLONG: ReadonlyArray<readonly [string, string]> = [
  ["\u00e0\u0080\u00ae", "."],
  ["\u00e0\u0080\u00af", "/"],
  ["\u00c0\u00ae", "."],
  ["\u00c0\u00af", "/"],
  ["\u00c1\u009c", "\\"],
  ["\u00c1\u001c", "\\"],
];

/**
 * `normalize_path`: folds overlong UTF-8 dots and slashes, turns backslashes into slashes, collapses
 * `//` and `/./`, and resolves `name/..`. A `..` that would climb above the start is kept, because
 * that climb is exactly what path traversal rules look for.
 */
export function normalizePath(input: string): string {
  let s = input;
  if (s.indexOf("\u00c0") >= 0 || s.indexOf("\u00c1") >= 0 || s.indexOf("\u00e0") >= 0) {
    for (const [from, to] of OVERLONG) s = s.replaceAll(from, to);
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
