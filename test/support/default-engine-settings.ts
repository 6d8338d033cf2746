import { DEFAULT_ENGINE_SETTINGS, type EngineSettings } from "../../ext-proc/src/engine/engine-settings.js";
import { listBuiltinPacks, loadRulePacks } from "../../ext-proc/src/policy/rule-packs.js";

/** For engine tests: engine defaults and every built-in pack, with no policy document around them. */
export function defaultEngineSettings(): EngineSettings {
  return { ...DEFAULT_ENGINE_SETTINGS, rules: loadRulePacks(listBuiltinPacks()) };
}
