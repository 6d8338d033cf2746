import { ALNUM, groupedNumberStart, tokenEnd, type Detector } from "../detector.js";

const MIN_DIGITS = 13;
const SEPARATOR = /[ -]/;

/** Luhn (mod 10) check over ASCII digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * The longest prefix of a candidate that is a Luhn-valid card number and ends at a group
 * boundary, so "4111 1111 1111 1111 12/27" masks the card but not the expiry month.
 */
function validCardPrefix(candidate: Buffer): number {
  const text = candidate.toString("latin1");
  const ends: number[] = [];
  for (let i = 0; i < text.length; i++) if (!SEPARATOR.test(text[i] ?? "")) ends.push(i + 1);
  for (let n = ends.length; n >= MIN_DIGITS; n--) {
    const end = ends[n - 1] ?? 0;
    if (end < text.length && !SEPARATOR.test(text[end] ?? "")) continue;
    if (luhnValid(text.slice(0, end).replace(/[ -]/g, ""))) return end;
  }
  return 0;
}

/**
 * Payment card numbers: 13–19 digits starting 2–6 (every major scheme), single spaces or dashes
 * allowed between digits, not inside a longer run of letters or digits, not after `+` (a phone
 * number) or `.` (decimals), Luhn-checked.
 */
export const creditCard: Detector = {
  name: "credit-card",
  pattern: `${groupedNumberStart(`${ALNUM}+.`)}(?P<secret>[2-6][0-9](?:[ -]?[0-9]){11,17})${tokenEnd(ALNUM)}`,
  keepLast: 4,
  validate: validCardPrefix,
};
