import type { RuleDefinition } from "./rule-definition.js";
import type { MatchFilter, TransactionOptions } from "./types.js";

const TAG_PREFIX = "tag:";

/** Does a filter's target list cover this match target (`args:q`)? Absent list: every target. */
function coversTarget(targets: readonly string[] | undefined, target: string): boolean {
  if (targets === undefined) return true;
  return targets.some((t) => target === t || (t.endsWith(":") ? target.startsWith(t) : target.startsWith(`${t}:`)));
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

  excludes(rule: RuleDefinition, target: string): boolean {
    return this.exclusions.some((f) => selects(f, rule) && coversTarget(f.targets, target));
  }

  monitors(rule: RuleDefinition): boolean {
    return this.monitored.some((f) => selects(f, rule));
  }
}
