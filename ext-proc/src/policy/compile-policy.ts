/** Policy document → ActivePolicy: rules gathered, engine compiled, content hash computed. */
import { createHash } from "node:crypto";
import { compileEngine } from "../engine/compile-engine.js";
import type { EngineSettings } from "../engine/engine-settings.js";
import type { ActivePolicy } from "./active-policy.js";
import { canonicalJson } from "./canonical-json.js";
import type { PolicyDocument } from "./policy-document.js";
import { PolicyError } from "./policy-error.js";
import { listBuiltinPacks, loadRulePacks, parseRuleDefinitions } from "./rule-packs.js";

const TAG_PREFIX = "tag:";

export function engineSettings(document: PolicyDocument, source: string): EngineSettings {
  const { spec } = document;
  const disabled = spec.disabledRules;
  return {
    paranoiaLevel: spec.paranoiaLevel,
    inboundThreshold: spec.anomalyThresholds.inbound,
    outboundThreshold: spec.anomalyThresholds.outbound,
    denyStatus: spec.denyResponse.status,
    limits: {
      maxBodyBytes: spec.limits.maxBodyBytes,
      maxArguments: spec.limits.maxArguments,
      maxJsonDepth: spec.limits.maxJsonDepth,
      maxMultipartParts: spec.limits.maxMultipartParts,
      maxDecodePasses: spec.limits.maxDecodePasses,
      timeBudgetMs: spec.limits.phaseBudgetMs,
    },
    onLimit: spec.limits.onLimit,
    rules: [...loadRulePacks([...(spec.rulePacks ?? listBuiltinPacks())]), ...parseRuleDefinitions(spec.rules, source)],
    disabledRuleIds: disabled.filter((d) => !d.startsWith(TAG_PREFIX)),
    disabledTags: disabled.filter((d) => d.startsWith(TAG_PREFIX)).map((d) => d.slice(TAG_PREFIX.length)),
  };
}

/**
 * The hash covers the document with its defaults and the rules it enforces, so two instances
 * report the same hash exactly when they enforce the same thing, whatever the meshrasp build.
 */
export function policyHash(document: PolicyDocument, settings: EngineSettings): string {
  return createHash("sha256").update(canonicalJson({ document, rules: settings.rules })).digest("hex");
}

export function compilePolicy(document: PolicyDocument, source: string): ActivePolicy {
  let settings: EngineSettings;
  let engine: ActivePolicy["engine"];
  try {
    settings = engineSettings(document, source);
    engine = compileEngine(settings);
  } catch (error) {
    if (error instanceof PolicyError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new PolicyError(source, [{ path: "spec", line: 0, column: 0, message }]);
  }
  return {
    name: document.metadata.name,
    version: document.metadata.version,
    hash: policyHash(document, settings),
    mode: document.spec.mode,
    engine,
    phaseBudgetMs: document.spec.limits.phaseBudgetMs,
    onError: document.spec.failure.onError,
    maxBodyBytes: document.spec.limits.maxBodyBytes,
  };
}
