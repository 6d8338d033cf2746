import { codePointToBytes, hex4, type TransformContext } from "./transform-context.js";
import { decodeUntilStable, percentDecodeOnce, URL_DECODE_CHANGES } from "./url-decode.js";

/** `url_decode_uni` leaves a value without these unchanged: %uXXXX starts with `%` too. */
export const URL_DECODE_UNI_CHANGES = URL_DECODE_CHANGES;

const PERCENT_U = /%[uU]/;
const PENDING = /\+|%(?:[0-9a-fA-F]{2}|[uU][0-9a-fA-F]{4})/;

function decodePercentU(input: string): string {
  let i = input.search(PERCENT_U);
  if (i < 0) return input;
  const parts: string[] = [];
  let start = 0;
  for (; i >= 0 && i + 5 < input.length; i = input.indexOf("%", i + 1)) {
    if ((input.charCodeAt(i + 1) | 0x20) !== 117) continue;
    const value = hex4(input, i + 2);
    if (value < 0) continue;
    // Full-width ASCII (U+FF01-U+FF5E) is folded to ASCII, as IIS does when it decodes %uFFxx.
    const folded = value >= 0xff01 && value <= 0xff5e ? value - 0xfee0 : value;
    parts.push(input.slice(start, i), codePointToBytes(folded));
    i += 5;
    start = i + 1;
  }
  parts.push(input.slice(start));
  return parts.join("");
}

function decodeOnce(input: string): string {
  return percentDecodeOnce(decodePercentU(input));
}

/** `url_decode_uni`: %XX, `+` and IIS-style %uXXXX, repeated until stable, bounded. */
export function urlDecodeUni(input: string, context: TransformContext): string {
  return decodeUntilStable(input, context, decodeOnce, PENDING);
}
