import type { ValueSink } from "./value-sink.js";

/** Splits a Cookie header (`a=1; b=2`) into cookie names and values; values are not decoded. */
export function parseCookies(header: string, sink: ValueSink): boolean {
  for (const piece of header.split(";")) {
    const trimmed = piece.trim();
    if (trimmed === "") continue;
    const eq = trimmed.indexOf("=");
    const name = eq < 0 ? trimmed : trimmed.slice(0, eq).trim();
    const value = eq < 0 ? "" : trimmed.slice(eq + 1).trim();
    if (!sink.add("cookie_names", name, name)) return false;
    if (!sink.add("cookies", name, value)) return false;
  }
  return true;
}
