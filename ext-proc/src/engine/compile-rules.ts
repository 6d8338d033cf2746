import type RE2 from "re2";
import { EngineError } from "./engine-error.js";
import type { CompiledRule } from "./matching/compiled-rule.js";
import { compileSingle } from "./matching/regex-cache.js";
import { matcherPattern } from "./matching/rule-pattern.js";
import type { RuleDefinition } from "./rule-definition.js";
import { SEVERITY_POINTS } from "./severity-points.js";
import {
  isRequestPhase,
  parseTargetSelector,
  PHASE_ORDER,
  TARGET_SOURCES,
  type TargetSelector,
} from "./target-sources.js";
import { TRANSFORMATIONS } from "./transformations/registry.js";

function compileSelectors(rule: RuleDefinition): TargetSelector[] {
  const where = `rule ${rule.id} field targets`;
  if (rule.targets.length === 0) throw EngineError.policyInvalid(where, "at least one target is required");
  const selectors: TargetSelector[] = [];
  for (const text of rule.targets) {
    const parsed = parseTargetSelector(text);
    if (typeof parsed === "string") throw EngineError.policyInvalid(where, parsed);
    const usable = parsed.sources.filter(
      (s) =>
        isRequestPhase(TARGET_SOURCES[s]) === isRequestPhase(rule.phase) &&
        PHASE_ORDER[TARGET_SOURCES[s]] >= PHASE_ORDER[rule.phase],
    );
    if (usable.length === 0) {
      throw EngineError.policyInvalid(
        where,
        `target "${text}" is not available in phase ${rule.phase} (it is inspected in ${TARGET_SOURCES[parsed.sources[0] ?? "method"]})`,
      );
    }
    selectors.push({ ...parsed, sources: usable });
  }
  return selectors;
}

function compilePattern(rule: RuleDefinition, flags: string): { pattern: string; regex: RE2 } {
  const pattern = matcherPattern(rule.matcher);
  const field = rule.matcher.kind === "regex" ? "regex" : "phrases";
  if (rule.matcher.kind === "phrases" && rule.matcher.phrases.length === 0) {
    throw EngineError.policyInvalid(`rule ${rule.id} field phrases`, "the phrase list is empty");
  }
  let regex: RE2;
  try {
    regex = compileSingle(pattern, flags);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw EngineError.policyInvalid(`rule ${rule.id} field ${field}`, `invalid RE2 pattern: ${reason}`);
  }
  if (regex.test("")) {
    throw EngineError.policyInvalid(`rule ${rule.id} field ${field}`, "the pattern matches the empty string");
  }
  return { pattern, regex };
}

/**
 * Validates and compiles rule definitions: unique ids, known targets and transformations, RE2
 * patterns that compile on their own. Throws EngineError `policy_invalid` naming rule and field.
 */
export function compileRules(definitions: readonly RuleDefinition[]): CompiledRule[] {
  const seen = new Set<string>();
  return definitions.map((definition, index) => {
    if (seen.has(definition.id)) {
      throw EngineError.policyInvalid(`rule ${definition.id} field id`, "duplicate rule id");
    }
    seen.add(definition.id);
    const transforms = definition.transforms.map((name) => {
      const transformation = TRANSFORMATIONS.get(name);
      if (!transformation) {
        throw EngineError.policyInvalid(`rule ${definition.id} field transforms`, `unknown transformation "${name}"`);
      }
      return transformation;
    });
    const flags = definition.matcher.caseSensitive ? "" : "i";
    const scoring = definition.action === "score" || definition.action === "deny";
    return {
      index,
      definition,
      transforms,
      ...compilePattern(definition, flags),
      flags,
      selectors: compileSelectors(definition),
      points: scoring ? SEVERITY_POINTS[definition.severity] : 0,
    };
  });
}
