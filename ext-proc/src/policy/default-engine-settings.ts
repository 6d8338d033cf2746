import { DEFAULT_ENGINE_SETTINGS, type EngineSettings } from "../engine/engine-settings.js";
import { listBuiltinPacks, loadRulePacks } from "./rule-packs.js";

/** The engine settings used without a policy file: engine defaults and every built-in pack. */
export function defaultEngineSettings(): EngineSettings {
  return { ...DEFAULT_ENGINE_SETTINGS, rules: loadRulePacks(listBuiltinPacks()) };
}
