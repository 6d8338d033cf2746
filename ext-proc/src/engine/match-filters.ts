import { EngineError } from "./engine-error.js";
import type { RuleDefinition } from "./rule-definition.js";
import { parseTargetSelector, selectsValue, type TargetSelector, type TargetSource } from "./target-sources.js";
import type { MatchFilter, TransactionOptions } from "./types.js";

const TAG_PREFIX = "tag:";

/** Every filter's targets parsed once, by filter: requests hand in the same filters again and again. */
const parsedTargets = new WeakMap<MatchFilter, readonly TargetSelector[]>();

/** A filter's targets parsed as a rule's are, or the reason they cannot be. */
function parseTargets(targets: readonly string[]): TargetSelector[] | EngineError {
  const selectors: TargetSelector[] = [];
  for (const [index, text] of targets.entries()) {
    const selector = parseTargetSelector(text);
    if (typeof selector === "string") return EngineError.policyInvalid(`targets[${index}]`, selector);
    selectors.push(selector);
  }
  if (!selectors.some((s) => !s.exclude)) {
    return EngineError.policyInvalid("targets", 'nothing is covered: list what is, e.g. [args, "!args:q"]');
  }
  return selectors;
}

/**
 * Parses a filter's targets with the rule target parser, once: a policy calls this as it
 * compiles, so a bad target is a policy error and no request parses anything. Returns the filter,
 * to be handed to `Engine.newTransaction` as it is. Throws EngineError `policy_invalid` naming
 * the target.
 */
export function compileMatchFilter(filter: MatchFilter): MatchFilter {
  if (filter.targets !== undefined) {
    const parsed = parseTargets(filter.targets);
    if (parsed instanceof EngineError) throw parsed;
    parsedTargets.set(filter, parsed);
  }
  return filter;
}

function selectorsOf(filter: MatchFilter, targets: readonly string[]): readonly TargetSelector[] {
  let selectors = parsedTargets.get(filter);
  if (selectors === undefined) {
    const parsed = parseTargets(targets);
    // Not compiled first, and invalid: it covers nothing, so no match is dropped by mistake.
    selectors = parsed instanceof EngineError ? [] : parsed;
    parsedTargets.set(filter, selectors);
  }
  return selectors;
}

/**
 * Does a filter cover a value of `source` named `name`? Exactly when a rule with the filter's
 * targets would scan it; an absent list covers every value.
 */
function covers(filter: MatchFilter, source: TargetSource, name: string): boolean {
  return filter.targets === undefined || selectsValue(selectorsOf(filter, filter.targets), source, name);
}

function selects(filter: MatchFilter, rule: RuleDefinition): boolean {
  return filter.rules.some((r) => (r.startsWith(TAG_PREFIX) ? rule.tags.includes(r.slice(TAG_PREFIX.length)) : r === rule.id));
}

/**
 * The policy's per-request view of matches: which are dropped (exclusions) and which are only
 * reported (monitored rules). Filters apply to matches after scanning, so they can only ever
 * remove findings the policy asked to remove; scanning itself is unchanged.
 */
export class MatchFilters {
  private constructor(
    private readonly exclusions: readonly MatchFilter[],
    private readonly monitored: readonly MatchFilter[],
  ) {}

  /** Undefined when the options filter nothing, so the common case costs nothing. */
  static from(options: TransactionOptions | undefined): MatchFilters | undefined {
    const exclusions = options?.exclusions ?? [];
    const monitored = options?.monitored ?? [];
    return exclusions.length === 0 && monitored.length === 0 ? undefined : new MatchFilters(exclusions, monitored);
  }

  /** Whether a match of `rule` on a value of `source` named `name` (as it arrived) is dropped. */
  excludes(rule: RuleDefinition, source: TargetSource, name: string): boolean {
    return this.exclusions.some((f) => selects(f, rule) && covers(f, source, name));
  }

  monitors(rule: RuleDefinition): boolean {
    return this.monitored.some((f) => selects(f, rule));
  }
}
