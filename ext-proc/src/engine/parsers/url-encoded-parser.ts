import { percentDecodeOnce } from "../transformations/url-decode.js";
import type { TargetSource } from "../target-sources.js";
import type { ValueSink } from "./value-sink.js";

/**
 * Splits `a=1&b=2&a[]=3` into names and values, each percent-decoded once (as the application
 * sees them). Repeated keys and array keys are kept as separate values. Returns false when the
 * sink refused a value (limit reached).
 */
export function parseUrlEncoded(
  text: string,
  sink: ValueSink,
  nameSource: TargetSource,
  valueSource: TargetSource,
): boolean {
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf("&", start);
    if (end < 0) end = text.length;
    if (end > start) {
      const pair = text.slice(start, end);
      const eq = pair.indexOf("=");
      const name = percentDecodeOnce(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? "" : percentDecodeOnce(pair.slice(eq + 1));
      if (!sink.add(nameSource, name, name)) return false;
      if (!sink.add(valueSource, name, value)) return false;
    }
    start = end + 1;
  }
  return true;
}
