import type RE2 from "re2";
import type { RuleDefinition } from "../rule-definition.js";
import type { TargetSelector } from "../target-sources.js";
import type { RegisteredTransformation } from "../transformations/registry.js";

/** A validated rule ready to run: its RE2 source, selectors and points. */
export interface CompiledRule {
  /** Position in the engine's rule list; identifies the rule in per-transaction state. */
  readonly index: number;
  readonly definition: RuleDefinition;
  /** The definition's transformations, looked up once when the rule is compiled. */
  readonly transforms: readonly RegisteredTransformation[];
  readonly pattern: string;
  /** The pattern compiled alone: run only after a set hit, to extract the matched text. */
  readonly regex: RE2;
  /** RE2 flags shared by the set this rule is grouped in: `i` or ``. */
  readonly flags: string;
  readonly selectors: readonly TargetSelector[];
  readonly points: number;
}
