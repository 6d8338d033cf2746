import type { TargetSource } from "../target-sources.js";
import type { ValueSink } from "./value-sink.js";

/** A sink that records what parsers emit, refusing values after `limit`. */
export class RecordingSink implements ValueSink {
  readonly values: [TargetSource, string, string][] = [];

  constructor(private readonly limit = Number.POSITIVE_INFINITY) {}

  add(source: TargetSource, name: string, value: string): boolean {
    if (this.values.length >= this.limit) return false;
    this.values.push([source, name, value]);
    return true;
  }

  of(source: TargetSource): [string, string][] {
    return this.values.filter(([s]) => s === source).map(([, n, v]) => [n, v]);
  }
}
