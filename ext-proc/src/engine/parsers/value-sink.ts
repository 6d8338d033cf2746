import type { TargetSource } from "../target-sources.js";

/** Where parsers put what they find. `add` returns false once the caller wants no more values. */
export interface ValueSink {
  add(source: TargetSource, name: string, value: string): boolean;
}
