/** A content-encoding this module can decode and re-encode. */
export type ContentEncoding = "gzip" | "deflate" | "br";

const KNOWN: ReadonlyMap<string, ContentEncoding | "identity"> = new Map([
  ["gzip", "gzip"],
  ["x-gzip", "gzip"],
  ["deflate", "deflate"],
  ["br", "br"],
  ["identity", "identity"],
]);

/**
 * Reads a `content-encoding` header. Absent, empty or `identity`: no encoding. One of gzip
 * (x-gzip), deflate or br: that one. Anything else, including two stacked codings
 * (`gzip, br`), is returned as unsupported with the header's value.
 */
export function parseContentEncoding(header: string | undefined): ContentEncoding | "identity" | { unsupported: string } {
  const codings = (header ?? "")
    .split(",")
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== "" && c !== "identity");
  if (codings.length === 0) return "identity";
  const only = codings.length === 1 ? KNOWN.get(codings[0] ?? "") : undefined;
  return only ?? { unsupported: header ?? "" };
}
