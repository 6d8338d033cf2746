import type { Phase, Severity } from "./types.js";

/** What a rule does when it matches. `score` adds the severity's points to the anomaly score. */
export type RuleAction = "score" | "deny" | "log" | "redact";

/** An RE2 pattern, or a phrase list that is compiled into one escaped RE2 alternation. */
export type RuleMatcher =
  | { readonly kind: "regex"; readonly pattern: string; readonly caseSensitive: boolean }
  | {
      readonly kind: "phrases";
      readonly phrases: readonly string[];
      readonly caseSensitive: boolean;
      /** Require a non-word character (or the value's edge) on both sides of a phrase. */
      readonly wordBoundary: boolean;
    };

/**
 * A rule as loaded from a YAML pack or a policy's custom rules, validated for shape but not yet
 * compiled. Targets are selectors such as `args`, `headers:user-agent` or `!headers:cookie`;
 * transforms name entries of the transformation registry, applied in order.
 */
export interface RuleDefinition {
  readonly id: string;
  readonly message: string;
  /** Attack class, e.g. `sqli`; also present in `tags` as `attack-sqli`. */
  readonly category: string;
  /** 1-4; also present in `tags` as `paranoia-level/N`. */
  readonly paranoiaLevel: number;
  readonly tags: readonly string[];
  readonly severity: Severity;
  readonly phase: Phase;
  readonly targets: readonly string[];
  readonly transforms: readonly string[];
  readonly matcher: RuleMatcher;
  /** The rule fires when the matcher does NOT match a targeted value (e.g. a method allow-list). */
  readonly negate: boolean;
  readonly action: RuleAction;
}
