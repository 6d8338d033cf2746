const BASE64ISH = /^[A-Za-z0-9+/_-]{16,}={0,2}$/;

/**
 * `base64_decode`: when the whole value looks like base64 (standard or URL-safe, at least 16
 * characters) and decodes to mostly printable text, the decoded bytes; otherwise the empty
 * string, so rules in this chain only ever see decoded content.
 */
export function base64Decode(input: string): string {
  const trimmed = input.trim();
  if (trimmed.length < 16 || !BASE64ISH.test(trimmed)) return "";
  const decoded = Buffer.from(trimmed, "base64").toString("latin1");
  let printable = 0;
  for (let i = 0; i < decoded.length; i++) {
    const c = decoded.charCodeAt(i);
    if ((c >= 32 && c < 127) || c === 9 || c === 10 || c === 13) printable++;
  }
  return printable >= decoded.length * 0.9 ? decoded : "";
}
