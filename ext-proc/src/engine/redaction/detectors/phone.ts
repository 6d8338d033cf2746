import { groupedNumberStart, tokenEnd, type Detector } from "../detector.js";

const MIN_DIGITS = 7;
/** E.164 allows at most 15 digits. */
const MAX_DIGITS = 15;
const ISO_DATE = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
const PLAIN_NUMBER = /^[0-9]+$/;

/**
 * 7–15 digits; not a bare number (an id, a timestamp, a JSON number: a phone number is written
 * with `+`, brackets or separators) and not an ISO date.
 */
function phoneLength(candidate: Buffer): number {
  const text = candidate.toString("latin1");
  const digits = text.replace(/[^0-9]/g, "").length;
  if (digits < MIN_DIGITS || digits > MAX_DIGITS) return 0;
  if (PLAIN_NUMBER.test(text) || ISO_DATE.test(text)) return 0;
  return candidate.length;
}

/**
 * Phone numbers: E.164 (`+4915112345678`), and national formats with brackets, spaces or dashes
 * (`(555) 123-4567`, `030 1234 5678`). Opt-in, and broad on purpose.
 */
export const phone: Detector = {
  name: "phone",
  pattern:
    `${groupedNumberStart("0-9A-Za-z+_/.")}(?P<secret>(?:\\+[1-9][0-9]{0,2}[ -]?)?(?:\\([0-9]{1,4}\\)[ -]?)?` +
    `[0-9]{2,4}(?:[ -]?[0-9]{2,4}){1,5})${tokenEnd("0-9A-Za-z")}`,
  keepLast: 4,
  validate: phoneLength,
};
