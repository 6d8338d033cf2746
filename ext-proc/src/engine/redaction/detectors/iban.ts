import { ALNUM, tokenEnd, tokenStart, type Detector } from "../detector.js";

/** IBAN length per country (ISO 13616 registry). An unknown country is not an IBAN. */
const IBAN_LENGTHS: ReadonlyMap<string, number> = new Map(
  ("AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BI27 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DJ27 DK18 DO28 EE20 EG29 " +
    "ES24 FI18 FK18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 " +
    "LC32 LI21 LT20 LU20 LV21 LY25 MC27 MD24 ME22 MK19 MN20 MR27 MT31 MU30 NI28 NL18 NO15 OM23 PK24 PL28 PS29 PT25 " +
    "QA29 RO24 RS22 RU33 SA24 SC31 SD18 SE24 SI19 SK24 SM27 SO23 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20 YE30")
    .split(" ")
    .map((entry) => [entry.slice(0, 2), Number(entry.slice(2))]),
);

/** ISO 7064 mod 97-10 over an IBAN with its first four characters moved to the end. */
export function ibanChecksumValid(compact: string): boolean {
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const char of rearranged) {
    const code = char.charCodeAt(0);
    const value = code <= 57 ? code - 48 : code - 55;
    remainder = (remainder * (value > 9 ? 100 : 10) + value) % 97;
  }
  return remainder === 1;
}

/** The candidate cut to its country's IBAN length, if that ends at a group boundary and checks. */
function validIbanPrefix(candidate: Buffer): number {
  const text = candidate.toString("latin1");
  const length = IBAN_LENGTHS.get(text.slice(0, 2));
  if (length === undefined) return 0;
  let end = 0;
  let characters = 0;
  while (end < text.length && characters < length) if (text[end++] !== " ") characters++;
  if (characters < length || (end < text.length && text[end] !== " ")) return 0;
  return ibanChecksumValid(text.slice(0, end).replaceAll(" ", "")) ? end : 0;
}

/** IBANs: country code, check digits, BBAN; printed either compact or in groups of four. */
export const iban: Detector = {
  name: "iban",
  pattern: `${tokenStart(ALNUM)}(?P<secret>[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?)${tokenEnd(ALNUM)}`,
  keepLast: 4,
  validate: validIbanPrefix,
};
