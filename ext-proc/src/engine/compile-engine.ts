import { compileRules } from "./compile-rules.js";
import type { EngineSettings } from "./engine-settings.js";
import type { CompiledRule } from "./matching/compiled-rule.js";
import { buildSourcePlans } from "./matching/scan-plan.js";
import { EngineTransaction, type EngineCore } from "./transaction.js";
import { MatchFilters } from "./match-filters.js";
import type { Engine, Transaction, TransactionOptions } from "./types.js";
import { validateSettings } from "./validate-settings.js";

export type { EngineLimits, EngineSettings } from "./engine-settings.js";
export { DEFAULT_ENGINE_SETTINGS, DEFAULT_LIMITS, LIMIT_DENY_STATUS } from "./engine-settings.js";

function enabled(rule: CompiledRule, settings: EngineSettings): boolean {
  const definition = rule.definition;
  if (definition.paranoiaLevel > settings.paranoiaLevel) return false;
  if (settings.disabledRuleIds.includes(definition.id)) return false;
  return !definition.tags.some((tag) => settings.disabledTags.includes(tag));
}

/**
 * Validates settings and rules and compiles them once: every rule's pattern alone, then one shared
 * RE2.Set per source, transformation chain and flags. Throws EngineError `policy_invalid`.
 */
export function compileEngine(settings: EngineSettings): Engine {
  validateSettings(settings);
  const rules = compileRules(settings.rules).filter((rule) => enabled(rule, settings));
  const core: EngineCore = { settings, rules, plans: buildSourcePlans(rules) };
  return {
    newTransaction(options?: TransactionOptions): Transaction {
      return new EngineTransaction(core, MatchFilters.from(options));
    },
  };
}
