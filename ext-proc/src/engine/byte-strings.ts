/** Characters of matched text kept in a RuleMatch. */
const MATCHED_TEXT_LENGTH = 120;

/** The matched bytes (one code point per wire byte) as text, UTF-8 decoded, cut to length. */
export function readableExcerpt(found: Buffer): string {
  const head = found.length > 4 * MATCHED_TEXT_LENGTH ? found.subarray(0, 4 * MATCHED_TEXT_LENGTH) : found;
  const text = head.toString("utf8");
  // ASCII (the usual case) is already readable; otherwise turn the byte string back into UTF-8.
  return (text.length === head.length ? text : Buffer.from(text, "latin1").toString("utf8")).slice(0, MATCHED_TEXT_LENGTH);
}

/** A path or request target as a byte string (the server hands in text; non-Latin-1 chars become UTF-8 bytes). */
export function toByteString(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0xff) return Buffer.from(text, "utf8").toString("latin1");
  }
  return text;
}
