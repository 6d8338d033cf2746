import { byteClass, tokenStart, type Detector } from "../detector.js";

const HEADER = "eyJ[A-Za-z0-9_-]{5,1000}\\.";
const PATTERN = `${tokenStart("A-Za-z0-9_.-")}(?P<secret>${HEADER})`;
const TOKEN = byteClass("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.");
const DOT = 0x2e;
const MIN_PAYLOAD_CHARS = 2;

function tokenRunEnd(body: Buffer, from: number, limit: number): number {
  let i = from;
  while (i < limit && TOKEN[body[i] ?? 0] === 1) i++;
  return i;
}

/** Header, payload and signature (the signature may be empty: `alg: none`); nothing after. */
function jwtLength(candidate: Buffer): number {
  const firstDot = candidate.indexOf(DOT);
  const secondDot = candidate.indexOf(DOT, firstDot + 1);
  if (secondDot < 0 || secondDot - firstDot - 1 < MIN_PAYLOAD_CHARS) return 0;
  const thirdDot = candidate.indexOf(DOT, secondDot + 1);
  return thirdDot < 0 ? candidate.length : thirdDot;
}

/** JSON Web Tokens: three base64url segments, the header starting `eyJ` (`{"`). */
export const jwt: Detector = {
  name: "jwt",
  pattern: PATTERN,
  keepLast: 0,
  extend: tokenRunEnd,
  validate: jwtLength,
};
