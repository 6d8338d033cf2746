import { codePointToBytes } from "./transform-context.js";

/** `html_entity_decode` leaves a value without these unchanged. */
export const HTML_ENTITY_DECODE_CHANGES = /&/;

const NAMED: Readonly<Record<string, string>> = {
  lt: "<", gt: ">", amp: "&", quot: '"', apos: "'", nbsp: " ", tab: "\t", newline: "\n",
  colon: ":", semi: ";", comma: ",", period: ".", sol: "/", bsol: "\\", lpar: "(", rpar: ")",
  lsqb: "[", rsqb: "]", lbrack: "[", rbrack: "]", lcub: "{", rcub: "}", lbrace: "{", rbrace: "}",
  grave: "`", equals: "=", excl: "!", num: "#", dollar: "$", percnt: "%", ast: "*", plus: "+",
  quest: "?", commat: "@", hat: "^", verbar: "|", vert: "|", lowbar: "_", dash: "-", hyphen: "-",
};

// Numeric references with any number of leading zeros and an optional ';' (browsers accept both).
const ENTITY = /&(?:#[xX]0*([0-9a-fA-F]{1,6});?|#0*([0-9]{1,7});?|([a-zA-Z]{2,8});)/g;

/** `html_entity_decode`: numeric (decimal, hex) and the named entities that matter for markup and scripts. */
export function htmlEntityDecode(input: string): string {
  if (!HTML_ENTITY_DECODE_CHANGES.test(input)) return input;
  return input.replace(ENTITY, (whole, hex: string | undefined, dec: string | undefined, name: string | undefined) => {
    if (name !== undefined) return NAMED[name.toLowerCase()] ?? whole;
    const codePoint = hex !== undefined ? Number.parseInt(hex, 16) : Number.parseInt(dec ?? "", 10);
    if (!(codePoint > 0 && codePoint <= 0x10ffff)) return whole;
    return codePointToBytes(codePoint);
  });
}
