import type { RegisteredTransformation } from "../transformations/registry.js";
import type { Transformation } from "../transformations/transform-context.js";
import {
  isJsonPathKey,
  jsonPathLeaf,
  jsonPathName,
  PHASE_ORDER,
  selectsKey,
  TARGET_SOURCES,
  valueName,
  type TargetSource,
} from "../target-sources.js";
import { CleanValues } from "./clean-values.js";
import type { CompiledRule } from "./compiled-rule.js";
import { sharedPatternSet, type PatternSet } from "./regex-cache.js";

/**
 * Rules scanned together in one pass: `set.match` gives indexes into `rules`. Negated rules
 * (allow-lists) cannot share a set's "any hit" answer, so each runs alone.
 *
 * The set is compiled in multi-line mode, so the same set serves one value and many values joined
 * by newlines. On one value it can only say more than the plain patterns (`^`/`$` also match at
 * the value's own newlines), so a hit on a value that holds a newline is confirmed by the rule's
 * own (single-line) regex: same answers as a single-line set, half the compiled sets.
 */
export interface RuleBatch {
  readonly set: PatternSet | undefined;
  readonly rules: readonly CompiledRule[];
  readonly negated: readonly CompiledRule[];
  /**
   * For each rule of `rules` (then of `negated`), the bit of the foldable child it belongs to in
   * the step's mask, or -1 for the step's own rules: a hit of a child that was not folded into
   * this pass is dropped, because that child scans its own output.
   */
  readonly owners: readonly number[];
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
 * are scanned in this step's pass: `folded` holds this step's rules plus those of every foldable
 * child (one batch per RE2 flag set), and a pass with a mask keeps only the hits of the children
 * whose bit is set. Same answers, far fewer passes, and one compiled union per step rather than
 * one per subset of children.
 */
export interface ChainStep {
  readonly transform: Transformation | undefined;
  /** Index of the step whose output is this step's input; -1 for the untransformed value. */
  readonly parent: number;
  readonly foldable: readonly FoldableChild[];
  readonly folded: readonly RuleBatch[];
  /**
   * This step's rules alone, for a pass that folds no child: scanning the union there would run
   * every child's patterns over bytes none of them applies to (slower on long values).
   */
  readonly own: readonly RuleBatch[];
  /** This step and every step above it return their input unchanged when they have nothing to do. */
  readonly mergeable: boolean;
}

/** How values of one source and name are scanned: steps in an order where parents come first. */
export interface ValuePlan {
  readonly steps: readonly ChainStep[];
  /**
   * A value this does not match is left unchanged by every mergeable step (the union of their
   * transformations' `changesOnly`), so no transformation needs computing.
   */
  readonly anyChange: RegExp;
  /**
   * Every mergeable step's rules, for values `anyChange` does not match, split in what must be
   * scanned value by value (`now`) and what may be joined with other values (`joined`). Values
   * joined by newlines are scanned once with the (multi-line) set: whatever matches one value
   * alone also matches the joined text (`^`/`$` match at each value's edges, `\b` sees a
   * non-word neighbour), so no hit there proves no value matches; any hit sends every value back
   * to be scanned alone. Rules whose answer joining could change (negated, `\A`/`\z`, inline
   * flags that turn multi-line off, a pattern that matches the newline itself) go in `now`.
   */
  readonly untouched: { readonly now: readonly RuleBatch[]; readonly joined: readonly RuleBatch[] } | undefined;
  /** Steps that are not mergeable (and so are computed even for untouched values), in order. */
  readonly unmergeable: readonly number[];
  /** Values this plan scanned without any hit. */
  readonly clean: CleanValues;
}

/**
 * The plan for a source's values, chosen by the name a selector gives them (`headers:user-agent`,
 * `json:$.user.name`) or `other`.
 */
export interface SourcePlan {
  readonly byName: ReadonlyMap<string, ValuePlan | undefined>;
  /** Some keys of `byName` are JSON paths: values are looked up by path first. */
  readonly byPath: boolean;
  readonly other: ValuePlan | undefined;
}

export type SourcePlans = ReadonlyMap<TargetSource, SourcePlan>;

/** Patterns whose meaning changes when values are joined by newlines: text anchors, inline flag changes. */
const UNJOINABLE = /\\[Az]|\(\?[a-zA-Z]*-/;
function isJoinable(rule: CompiledRule): boolean {
  return !rule.definition.negate && !UNJOINABLE.test(rule.pattern) && !rule.regex.test("\n");
}

/**
 * Above this many foldable children a step folds none. The mask is an int, so at most 31 would
 * fit; five covers every step of the built-in packs, and each folded child adds its patterns to
 * the step's union.
 */
const MAX_FOLDABLE_CHILDREN = 5;

function appliesTo(rule: CompiledRule, source: TargetSource, key: string | undefined): boolean {
  if (PHASE_ORDER[TARGET_SOURCES[source]] < PHASE_ORDER[rule.definition.phase]) return false;
  return selectsKey(rule.selectors, source, key);
}

interface OwnedRule {
  readonly rule: CompiledRule;
  /** Bit of the foldable child the rule belongs to, -1 for the step's own rules. */
  readonly owner: number;
}

/**
 * One batch per RE2 flag set. Rules are ordered by index, so equal rule lists (another source,
 * another name, the untouched pass) give equal pattern lists and share one compiled set.
 */
function batchesOf(owned: readonly OwnedRule[]): RuleBatch[] {
  const sorted = [...owned].sort((a, b) => a.rule.index - b.rule.index);
  return [...new Set(sorted.map((o) => o.rule.flags))].map((flags) => {
    const same = sorted.filter((o) => o.rule.flags === flags);
    const positive = same.filter((o) => !o.rule.definition.negate);
    const negated = same.filter((o) => o.rule.definition.negate);
    return {
      set: positive.length > 0 ? sharedPatternSet(positive.map((o) => o.rule.pattern), `${flags}m`) : undefined,
      rules: positive.map((o) => o.rule),
      negated: negated.map((o) => o.rule),
      owners: [...positive, ...negated].map((o) => o.owner),
    };
  });
}

const own = (rule: CompiledRule): OwnedRule => ({ rule, owner: -1 });

/** One alternative of `anyChange`, which is built from sources: a flag would be silently dropped. */
function triggerSource(trigger: RegExp): string {
  if (trigger.flags !== "") throw new Error(`changesOnly /${trigger.source}/${trigger.flags}: flags would be lost in anyChange`);
  return `(?:${trigger.source})`;
}

interface DraftStep {
  /** Undefined for the root: the untransformed value. */
  readonly transformation: RegisteredTransformation | undefined;
  readonly parent: number;
  readonly key: string;
  readonly rules: CompiledRule[];
  readonly mergeable: boolean;
}

function buildValuePlan(rules: readonly CompiledRule[]): ValuePlan | undefined {
  if (rules.length === 0) return undefined;
  const steps: DraftStep[] = [{ transformation: undefined, parent: -1, key: "", rules: [], mergeable: true }];
  for (const rule of rules) {
    let at = 0;
    const chain = rule.definition.transforms;
    for (let i = 0; i < chain.length; i++) {
      const key = chain.slice(0, i + 1).join(",");
      let next = steps.findIndex((step) => step.key === key);
      if (next < 0) {
        const transformation = rule.transforms[i];
        // A transformation that says which values it leaves unchanged (changesOnly) can be folded
        // into its parent's pass; one that may change anything (base64_decode) cannot.
        const mergeable = (steps[at]?.mergeable ?? true) && transformation?.changesOnly !== undefined;
        steps.push({ transformation, parent: at, key, rules: [], mergeable });
        next = steps.length - 1;
      }
      at = next;
    }
    steps[at]?.rules.push(rule);
  }
  // Every mergeable step has a trigger. With none, nothing ever changes: "^(?!)" fails at the first
  // position instead of trying every one, as the unanchored "(?!)" would on each value scanned.
  const triggers = steps.slice(1).flatMap((s) => (s.mergeable && s.transformation?.changesOnly ? [s.transformation.changesOnly] : []));
  const anyChange = new RegExp([...new Set(triggers.map(triggerSource))].join("|") || "^(?!)");
  const below = (index: number): number[] => steps.flatMap((s, i) => (s.parent === index ? [i, ...below(i)] : []));
  const built: ChainStep[] = steps.map((step, index) => {
    const children = steps.flatMap((child, i) => (child.parent === index && child.mergeable ? [i] : []));
    const foldable =
      children.length <= MAX_FOLDABLE_CHILDREN
        ? children.map((i) => ({ steps: [i, ...below(i).filter((d) => steps[d]?.mergeable)] }))
        : [];
    const folded = batchesOf([
      ...step.rules.map(own),
      ...foldable.flatMap((f, bit) => f.steps.flatMap((m) => (steps[m]?.rules ?? []).map((rule) => ({ rule, owner: bit })))),
    ]);
    return {
      parent: step.parent,
      transform: step.transformation?.apply,
      foldable,
      folded,
      own: foldable.length === 0 ? folded : batchesOf(step.rules.map(own)),
      mergeable: step.mergeable,
    };
  });
  const mergeableRules = steps.filter((s) => s.mergeable).flatMap((s) => s.rules);
  const foldsAll = (built[0]?.foldable.flatMap((f) => f.steps).length ?? 0) === steps.filter((s) => s.mergeable).length - 1;
  return {
    steps: built,
    anyChange,
    untouched: foldsAll
      ? {
          now: batchesOf(mergeableRules.filter((r) => !isJoinable(r)).map(own)),
          joined: batchesOf(mergeableRules.filter(isJoinable).map(own)),
        }
      : undefined,
    unmergeable: steps.flatMap((s, i) => (s.mergeable ? [] : [i])),
    clean: new CleanValues(),
  };
}

/**
 * Builds, for every source and every name a rule selects within it, the chain steps of exactly
 * the rules that apply; compiles each distinct pattern list into a shared set once.
 */
export function buildSourcePlans(rules: readonly CompiledRule[]): SourcePlans {
  const plans = new Map<TargetSource, SourcePlan>();
  for (const source of Object.keys(TARGET_SOURCES) as TargetSource[]) {
    const relevant = rules.filter((r) => r.selectors.some((s) => s.sources.includes(source)));
    if (relevant.length === 0) continue;
    const names = new Set<string>();
    for (const rule of relevant)
      for (const s of rule.selectors) if (s.name !== undefined && s.sources.includes(source)) names.add(s.name);
    const byName = new Map<string, ValuePlan | undefined>();
    for (const name of names) byName.set(name, buildValuePlan(relevant.filter((r) => appliesTo(r, source, name))));
    const other = buildValuePlan(relevant.filter((r) => appliesTo(r, source, undefined)));
    const byPath = [...names].some((name) => isJsonPathKey(source, name));
    if (other || [...byName.values()].some(Boolean)) plans.set(source, { byName, byPath, other });
  }
  return plans;
}

/** The plan for a value of `source` named `name` as it arrived: by JSON path, lookup name, or `other`. */
export function planFor(plans: SourcePlan, source: TargetSource, name: string): ValuePlan | undefined {
  const byName = plans.byName;
  if (byName.size === 0) return plans.other;
  let key: string;
  if (plans.byPath) {
    // The path, normalised once, gives the lookup name too.
    const path = jsonPathName(name);
    if (byName.has(path)) return byName.get(path);
    key = jsonPathLeaf(path);
  } else key = valueName(source, name);
  return byName.has(key) ? byName.get(key) : plans.other;
}
