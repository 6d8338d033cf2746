import { byteClass, type Detector } from "../detector.js";

/** Header line, as a pattern: RSA, EC, DSA, OPENSSH, ENCRYPTED, PGP (`PRIVATE KEY BLOCK`). */
const HEADER = "-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY[A-Z ]{0,10}-----";
/** Base64, line breaks (raw or JSON-escaped `\n`), and the `Proc-Type: 4,ENCRYPTED` headers. */
const BODY = byteClass("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= \t\r\n\\:,-");
const END = Buffer.from("-----END");
const DASHES = Buffer.from("-----");

/** The end of a PEM body: just after its `-----END … -----` line, or where the PEM alphabet stops. */
function pemBodyEnd(body: Buffer, from: number, limit: number): number {
  let i = from;
  while (i < limit && BODY[body[i] ?? 0] === 1) {
    if (body[i] === 0x2d && body.subarray(i, i + END.length).equals(END)) {
      const close = body.subarray(0, limit).indexOf(DASHES, i + END.length);
      if (close >= 0) return close + DASHES.length;
    }
    i++;
  }
  return i;
}

/** PEM private keys: the whole block from BEGIN to END, bounded by MAX_MATCH_BYTES. */
export const privateKey: Detector = {
  name: "private-key",
  pattern: HEADER,
  keepLast: 0,
  extend: pemBodyEnd,
};
