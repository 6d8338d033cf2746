import type { RegisteredTransformation } from "../transformations/registry.js";
import type { Transformation } from "../transformations/transform-context.js";
import { PHASE_ORDER, TARGET_SOURCES, type TargetSource } from "../target-sources.js";
import { CleanValues } from "./clean-values.js";
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
  /**
   * The same patterns in multi-line mode, for scanning many values joined by newlines in one
   * pass. In that mode `^`/`$` match at each value's edges and `\b` sees a non-word neighbour, so
   * whatever matches one value alone also matches the joined text: no hit there proves no value
   * matches; any hit sends every value back to `set`. Absent when the batch cannot be joined
   * (negated rules, `\A`/`\z`, inline flags that turn multi-line off).
   */
  readonly joinedSet: PatternSet | undefined;
}

/** A child step whose whole (mergeable) subtree can be folded into its parent's pass. */
export interface FoldableChild {
  /** The child and its mergeable descendants. */
  readonly steps: readonly number[];
}

/**
 * One step of a transformation chain, in a flat list where every step comes after its parent.
 * Rules whose chains share a prefix share the steps of that prefix, so each distinct prefix is
 * computed once per value.
 *
 * Most transformations return their input when they have nothing to do. When a child's whole
 * subtree leaves this step's output unchanged, its rules would see exactly these bytes, so they
 * are scanned in this step's pass: `folded[mask]` holds this step's rules plus those of every
 * foldable child whose bit is set in `mask` (one batch per RE2 flag set). Same answers, far
 * fewer passes.
 */
export interface ChainStep {
  readonly name: string;
  readonly transform: Transformation | undefined;
  /** Index of the step whose output is this step's input; -1 for the untransformed value. */
  readonly parent: number;
  readonly foldable: readonly FoldableChild[];
  readonly folded: readonly (readonly RuleBatch[])[];
  /** This step and every step above it return their input unchanged when they have nothing to do. */
  readonly mergeable: boolean;
}

/** How values of one source and name are scanned: steps in an order where parents come first. */
export interface ValuePlan {
  readonly steps: readonly ChainStep[];
  /**
   * A value this does not match is left unchanged by every mergeable step (the union of their
   * transformations' `changesOnly`), so no transformation needs computing. Absent when some
   * mergeable transformation may change anything.
   */
  readonly anyChange: RegExp | undefined;
  /**
   * Every mergeable step's rules, for values `anyChange` does not match, split in what must be
   * scanned value by value (`now`) and what may be joined with other values (`joined`).
   */
  readonly untouched: { readonly now: readonly RuleBatch[]; readonly joined: readonly RuleBatch[] } | undefined;
  /** Steps that are not mergeable (and so are computed even for untouched values), in order. */
  readonly unmergeable: readonly number[];
  /** Values this plan scanned without any hit. */
  readonly clean: CleanValues;
}

/** The plan for a source's values, chosen by lookup name (`headers:user-agent` rules) or `other`. */
export interface SourcePlan {
  readonly byName: ReadonlyMap<string, ValuePlan | undefined>;
  readonly other: ValuePlan | undefined;
}

export type SourcePlans = ReadonlyMap<TargetSource, SourcePlan>;

/** Transformations that may turn a value into something else even when it has nothing to decode. */
const NOT_MERGEABLE = new Set(["base64_decode"]);
/** Patterns whose meaning changes when values are joined by newlines: text anchors, inline flag changes. */
const UNJOINABLE = /\\[Az]|\(\?[a-zA-Z]*-/;
function isJoinable(rule: CompiledRule): boolean {
  return !rule.definition.negate && !UNJOINABLE.test(rule.pattern) && !rule.regex.test("\n");
}

/** Above this many foldable children a step folds none (2^n batches would be compiled). */
const MAX_FOLDABLE_CHILDREN = 5;

function appliesTo(rule: CompiledRule, source: TargetSource, name: string | undefined): boolean {
  if (PHASE_ORDER[TARGET_SOURCES[source]] < PHASE_ORDER[rule.definition.phase]) return false;
  let included = false;
  for (const selector of rule.selectors) {
    if (!selector.sources.includes(source)) continue;
    if (selector.exclude) {
      if (selector.name === name) return false;
    } else if (selector.name === undefined || selector.name === name) included = true;
  }
  return included;
}

function batchesOf(rules: readonly CompiledRule[]): RuleBatch[] {
  return [...new Set(rules.map((r) => r.flags))].map((flags) => {
    const same = rules.filter((r) => r.flags === flags);
    const positive = same.filter((r) => !r.definition.negate);
    const negated = same.filter((r) => r.definition.negate);
    const joinable = negated.length === 0 && positive.every(isJoinable);
    return {
      set: positive.length > 0 ? sharedPatternSet(positive.map((r) => r.pattern), flags) : undefined,
      rules: positive,
      negated,
      joinedSet: joinable && positive.length > 0 ? sharedPatternSet(positive.map((r) => r.pattern), `${flags}m`) : undefined,
    };
  });
}

interface DraftStep {
  readonly name: string;
  readonly parent: number;
  readonly key: string;
  readonly rules: CompiledRule[];
  readonly mergeable: boolean;
}

function buildValuePlan(
  rules: readonly CompiledRule[],
  transformFor: (name: string) => RegisteredTransformation,
): ValuePlan | undefined {
  if (rules.length === 0) return undefined;
  const steps: DraftStep[] = [{ name: "", parent: -1, key: "", rules: [], mergeable: true }];
  for (const rule of rules) {
    let at = 0;
    const chain = rule.definition.transforms;
    for (let i = 0; i < chain.length; i++) {
      const key = chain.slice(0, i + 1).join(",");
      let next = steps.findIndex((step) => step.key === key);
      if (next < 0) {
        const name = chain[i] ?? "";
        steps.push({ name, parent: at, key, rules: [], mergeable: (steps[at]?.mergeable ?? true) && !NOT_MERGEABLE.has(name) });
        next = steps.length - 1;
      }
      at = next;
    }
    steps[at]?.rules.push(rule);
  }
  const triggers = steps.slice(1).filter((s) => s.mergeable).map((s) => transformFor(s.name).changesOnly);
  const anyChange = triggers.every((t) => t !== undefined)
    ? new RegExp([...new Set(triggers.map((t) => `(?:${t?.source ?? ""})`))].join("|") || "(?!)")
    : undefined;
  const below = (index: number): number[] => steps.flatMap((s, i) => (s.parent === index ? [i, ...below(i)] : []));
  const built: ChainStep[] = steps.map((step, index) => {
      const children = steps.flatMap((child, i) => (child.parent === index && child.mergeable ? [i] : []));
      const foldable =
        children.length <= MAX_FOLDABLE_CHILDREN
          ? children.map((i) => ({ steps: [i, ...below(i).filter((d) => steps[d]?.mergeable)] }))
          : [];
      const folded: RuleBatch[][] = [];
      for (let mask = 0; mask < 1 << foldable.length; mask++) {
        const members = foldable.filter((_, bit) => (mask & (1 << bit)) !== 0).flatMap((f) => f.steps);
        folded.push(batchesOf([step, ...members.map((m) => steps[m])].flatMap((s) => s?.rules ?? [])));
      }
      return {
        name: step.name,
        parent: step.parent,
        transform: step.parent < 0 ? undefined : transformFor(step.name).apply,
      foldable,
      folded,
      mergeable: step.mergeable,
    };
  });
  const mergeableRules = steps.filter((s) => s.mergeable).flatMap((s) => s.rules);
  const foldsAll = (built[0]?.foldable.flatMap((f) => f.steps).length ?? 0) === steps.filter((s) => s.mergeable).length - 1;
  return {
    steps: built,
    anyChange,
    untouched: foldsAll
      ? { now: batchesOf(mergeableRules.filter((r) => !isJoinable(r))), joined: batchesOf(mergeableRules.filter(isJoinable)) }
      : undefined,
    unmergeable: steps.flatMap((s, i) => (s.mergeable ? [] : [i])),
    clean: new CleanValues(),
  };
}

/**
 * Builds, for every source and every name a rule selects within it, the chain steps of exactly
 * the rules that apply; compiles each distinct pattern list into a shared set once.
 */
export function buildSourcePlans(
  rules: readonly CompiledRule[],
  transformFor: (name: string) => RegisteredTransformation,
): SourcePlans {
  const plans = new Map<TargetSource, SourcePlan>();
  for (const source of Object.keys(TARGET_SOURCES) as TargetSource[]) {
    const relevant = rules.filter((r) => r.selectors.some((s) => s.sources.includes(source)));
    if (relevant.length === 0) continue;
    const names = new Set<string>();
    for (const rule of relevant)
      for (const s of rule.selectors) if (s.name !== undefined && s.sources.includes(source)) names.add(s.name);
    const byName = new Map<string, ValuePlan | undefined>();
    for (const name of names) byName.set(name, buildValuePlan(relevant.filter((r) => appliesTo(r, source, name)), transformFor));
    const other = buildValuePlan(relevant.filter((r) => appliesTo(r, source, undefined)), transformFor);
    if (other || [...byName.values()].some(Boolean)) plans.set(source, { byName, other });
  }
  return plans;
}
