import type { Transformation } from "../transformations/transform-context.js";
import { PHASE_ORDER, TARGET_SOURCES, type TargetSource } from "../target-sources.js";
import type { CompiledRule } from "./compiled-rule.js";
import { sharedPatternSet, type PatternSet } from "./regex-cache.js";

/**
 * Rules scanned together in one pass: `set.match` gives indexes into `rules`. Negated rules
 * (allow-lists) cannot share a set's "any hit" answer, so each runs alone.
 */
export interface RuleBatch {
  readonly set: PatternSet | undefined;
  readonly rules: readonly CompiledRule[];
  readonly negated: readonly CompiledRule[];
}

/** The batch for values of one source, chosen by the value's lookup name. */
export interface ScanPlan {
  readonly byName: ReadonlyMap<string, RuleBatch | undefined>;
  readonly other: RuleBatch | undefined;
}

/**
 * One step of a transformation chain. Rules whose chains share a prefix share the nodes of that
 * prefix, so each distinct prefix is computed once per value.
 */
export interface ChainNode {
  readonly name: string;
  readonly transform: Transformation | undefined;
  readonly plans: ScanPlan[];
  readonly children: ChainNode[];
}

/** For each source, the root of its chain tree (the untransformed value); absent when no rule targets it. */
export type SourcePlans = ReadonlyMap<TargetSource, ChainNode>;

function appliesTo(rule: CompiledRule, source: TargetSource, name: string | undefined): boolean {
  let included = false;
  for (const selector of rule.selectors) {
    if (!selector.sources.includes(source)) continue;
    if (selector.exclude) {
      if (selector.name === name) return false;
    } else if (selector.name === undefined || selector.name === name) included = true;
  }
  return included;
}

function targetsSource(rule: CompiledRule, source: TargetSource): boolean {
  if (PHASE_ORDER[TARGET_SOURCES[source]] < PHASE_ORDER[rule.definition.phase]) return false;
  return rule.selectors.some((s) => !s.exclude && s.sources.includes(source));
}

function batchOf(rules: readonly CompiledRule[], flags: string): RuleBatch | undefined {
  if (rules.length === 0) return undefined;
  const positive = rules.filter((r) => !r.definition.negate);
  return {
    set: positive.length > 0 ? sharedPatternSet(positive.map((r) => r.pattern), flags) : undefined,
    rules: positive,
    negated: rules.filter((r) => r.definition.negate),
  };
}

function buildPlan(rules: readonly CompiledRule[], source: TargetSource, flags: string): ScanPlan {
  const names = new Set<string>();
  for (const rule of rules)
    for (const s of rule.selectors) if (s.name !== undefined && s.sources.includes(source)) names.add(s.name);
  const byName = new Map<string, RuleBatch | undefined>();
  for (const name of names) byName.set(name, batchOf(rules.filter((r) => appliesTo(r, source, name)), flags));
  return { byName, other: batchOf(rules.filter((r) => appliesTo(r, source, undefined)), flags) };
}

/** Builds every source's chain tree; compiles each distinct pattern list into a shared set once. */
export function buildSourcePlans(
  rules: readonly CompiledRule[],
  transformFor: (name: string) => Transformation,
): SourcePlans {
  const plans = new Map<TargetSource, ChainNode>();
  for (const source of Object.keys(TARGET_SOURCES) as TargetSource[]) {
    const relevant = rules.filter((r) => targetsSource(r, source));
    if (relevant.length === 0) continue;
    const root: ChainNode = { name: "", transform: undefined, plans: [], children: [] };
    const byChain = new Map<string, CompiledRule[]>();
    for (const rule of relevant) {
      const key = rule.definition.transforms.join(",");
      const list = byChain.get(key) ?? [];
      list.push(rule);
      byChain.set(key, list);
    }
    for (const chainRules of byChain.values()) {
      const first = chainRules[0];
      if (!first) continue;
      let node = root;
      for (const name of first.definition.transforms) {
        let child = node.children.find((c) => c.name === name);
        if (!child) {
          child = { name, transform: transformFor(name), plans: [], children: [] };
          node.children.push(child);
        }
        node = child;
      }
      for (const flags of new Set(chainRules.map((r) => r.flags))) {
        node.plans.push(buildPlan(chainRules.filter((r) => r.flags === flags), source, flags));
      }
    }
    plans.set(source, root);
  }
  return plans;
}
