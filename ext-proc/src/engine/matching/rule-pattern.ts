import type { RuleMatcher } from "../rule-definition.js";

const RE2_SPECIAL = /[\\^$.|?*+()[\]{}]/g;

/** The RE2 source of a matcher: the pattern itself, or the phrases as one escaped alternation. */
export function matcherPattern(matcher: RuleMatcher): string {
  if (matcher.kind === "regex") return matcher.pattern;
  const alternation = matcher.phrases.map((p) => p.replace(RE2_SPECIAL, "\\$&")).join("|");
  return matcher.wordBoundary ? `(?:^|\\W)(?:${alternation})(?:\\W|$)` : `(?:${alternation})`;
}
