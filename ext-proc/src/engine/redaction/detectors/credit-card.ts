import { ALNUM, groupedNumberStart, tokenEnd, type Detector } from "../detector.js";

const MIN_DIGITS = 13;
const SPACE = 0x20;
const DASH = 0x2d;

/** A Luhn digit in a doubled position. */
function doubled(digit: number): number {
  const d = digit * 2;
  return d > 9 ? d - 9 : d;
}

/** Luhn (mod 10) check over ASCII digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    const d = digits.charCodeAt(digits.length - 1 - i) - 48;
    sum += i % 2 === 1 ? doubled(d) : d;
  }
  return sum % 10 === 0;
}

/**
 * The longest prefix of a candidate that is a Luhn-valid card number and ends at a group
 * boundary, so "4111 1111 1111 1111 12/27" masks the card but not the expiry month. One pass
 * over the bytes: which digits a prefix doubles depends only on its length's parity, so two
 * running sums give the Luhn sum of every prefix.
 */
function validCardPrefix(candidate: Buffer): number {
  let digits = 0;
  /** Luhn sums of the digits so far, doubling those at even (evenSum) or odd (oddSum) indexes. */
  let evenSum = 0;
  let oddSum = 0;
  let longest = 0;
  for (let i = 0; i < candidate.length; i++) {
    const byte = candidate[i] ?? 0;
    if (byte === SPACE || byte === DASH) continue;
    const digit = byte - 48;
    const even = digits % 2 === 0;
    evenSum += even ? doubled(digit) : digit;
    oddSum += even ? digit : doubled(digit);
    digits++;
    if (digits < MIN_DIGITS) continue;
    const next = candidate[i + 1];
    const atBoundary = next === undefined || next === SPACE || next === DASH;
    if (atBoundary && (digits % 2 === 0 ? evenSum : oddSum) % 10 === 0) longest = i + 1;
  }
  return longest;
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
