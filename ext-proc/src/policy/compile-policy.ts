/**
 * Parsed policy → ActivePolicy: rules gathered, one engine compiled per distinct set of engine
 * settings (scopes that differ only in mode or deny response share one), semantic checks with the
 * YAML position of every problem, and the content hash.
 */
import { createHash } from "node:crypto";
import { compileEngine, DEFAULT_ENGINE_SETTINGS } from "../engine/compile-engine.js";
import type { EngineSettings } from "../engine/engine-settings.js";
import type { RuleDefinition } from "../engine/rule-definition.js";
import { compileMatchFilter } from "../engine/match-filters.js";
import type { Engine, MatchFilter } from "../engine/types.js";
import { compileRedactor, DEFAULT_REDACTION_DETECTORS, type Redactor } from "../engine/redaction/index.js";
import type { ActivePolicy, CompiledRedaction, ScopedPolicy } from "./active-policy.js";
import { canonicalJson } from "./canonical-json.js";
import { issueAt, type ParsedPolicy, type PolicyExclusion, type PolicyRedaction, type PolicySettings } from "./policy-document.js";
import { PolicyError, type PolicyIssue } from "./policy-error.js";
import { mediaType } from "../engine/media-type.js";
import { compileConditions } from "./request-conditions.js";
import { ScopeIndex } from "./scope-index.js";
import { listBuiltinPacks, loadRulePacks, parseRuleDefinitions } from "./rule-packs.js";

const TAG_PREFIX = "tag:";
/** Shared by every request of a scope without conditional exclusions: nothing to allocate. */
const NO_EXCLUSIONS: readonly MatchFilter[] = Object.freeze([]);
type Path = (string | number)[];

function engineSettings(settings: PolicySettings, rules: readonly RuleDefinition[]): EngineSettings {
  // Exclusions without conditions or targets are plain rule removals, cheapest done at compile time.
  const removed = [
    ...settings.disabledRules,
    ...settings.exclusions.filter((e) => e.when === undefined && e.targets === undefined).flatMap((e) => e.rules),
  ];
  return {
    paranoiaLevel: settings.paranoiaLevel,
    inboundThreshold: settings.anomalyThresholds.inbound,
    outboundThreshold: settings.anomalyThresholds.outbound,
    denyStatus: settings.denyResponse.status,
    limits: {
      maxBodyBytes: settings.limits.maxBodyBytes,
      maxArguments: settings.limits.maxArguments,
      maxJsonDepth: settings.limits.maxJsonDepth,
      maxMultipartParts: settings.limits.maxMultipartParts,
      maxDecodePasses: settings.limits.maxDecodePasses,
      timeBudgetMs: settings.limits.phaseBudgetMs,
    },
    onLimit: settings.limits.onLimit,
    rules,
    disabledRuleIds: [...new Set(removed.filter((d) => !d.startsWith(TAG_PREFIX)))],
    disabledTags: [...new Set(removed.filter((d) => d.startsWith(TAG_PREFIX)).map((d) => d.slice(TAG_PREFIX.length)))],
  };
}

function bodyFilter(types: readonly string[] | undefined, missing = true): (contentType: string | undefined) => boolean {
  if (types === undefined) return () => true;
  const exact = new Set(types.filter((t) => !t.endsWith("/*")));
  const families = types.filter((t) => t.endsWith("/*")).map((t) => t.slice(0, -1));
  // A body without a content type is inspected: leaving the header out must not be a bypass.
  return (contentType) => {
    if (contentType === undefined || contentType === "") return missing;
    const type = mediaType(contentType);
    return exact.has(type) || families.some((family) => type.startsWith(family));
  };
}

interface Compiler {
  readonly parsed: ParsedPolicy;
  readonly issues: PolicyIssue[];
  readonly engines: Map<string, Engine>;
  readonly redactors: Map<string, Redactor>;
  readonly customRules: readonly RuleDefinition[];
  readonly usedRules: Map<string, RuleDefinition>;
  /** Conditional exclusions compiled so far: a scope inherits the spec's very objects, reported once. */
  readonly exclusions: Map<PolicyExclusion, readonly ConditionalExclusion[]>;
}

interface ConditionalExclusion {
  readonly applies: ReturnType<typeof compileConditions>;
  readonly filter: MatchFilter;
}

function rulesFor(compiler: Compiler, settings: PolicySettings, path: Path): RuleDefinition[] {
  const packs = settings.rulePacks ?? listBuiltinPacks();
  const known = new Set(listBuiltinPacks());
  packs.forEach((pack, index) => {
    if (!known.has(pack)) compiler.issues.push(issueAt(compiler.parsed, [...path, "rulePacks", index], `unknown rule pack "${pack}"; built-in packs: ${[...known].join(", ")}`));
  });
  return [...loadRulePacks(packs.filter((p) => known.has(p))), ...compiler.customRules];
}

/** Every rule id or tag a setting names must exist, or the policy means something it does not do. */
function checkReferences(compiler: Compiler, settings: PolicySettings, rules: readonly RuleDefinition[], path: Path): void {
  const ids = new Set(rules.map((r) => r.id));
  const tags = new Set(rules.flatMap((r) => r.tags));
  const check = (reference: string, at: Path): void => {
    const ok = reference.startsWith(TAG_PREFIX) ? tags.has(reference.slice(TAG_PREFIX.length)) : ids.has(reference);
    if (!ok) compiler.issues.push(issueAt(compiler.parsed, at, `no rule ${reference.startsWith(TAG_PREFIX) ? "has tag" : "has id"} "${reference.replace(TAG_PREFIX, "")}"`));
  };
  settings.disabledRules.forEach((r, i) => check(r, [...path, "disabledRules", i]));
  settings.exclusions.forEach((e, i) => e.rules.forEach((r, j) => check(r, [...path, "exclusions", i, "rules", j])));
  settings.ruleOverrides.forEach((o, i) => o.rules.forEach((r, j) => check(r, [...path, "ruleOverrides", i, "rules", j])));
}

/**
 * Headers a policy may not add or remove: Envoy refuses to touch routing and its own headers, and
 * framing headers changed by a third party are how request smuggling starts.
 */
const PROTECTED_HEADERS = new Set(["host", "content-length", "transfer-encoding", "te", "connection", "upgrade", "keep-alive"]);

function checkHeaderNames(compiler: Compiler, settings: PolicySettings, path: Path): void {
  const check = (name: string, at: Path): void => {
    if (PROTECTED_HEADERS.has(name) || name.startsWith("x-envoy-")) {
      compiler.issues.push(issueAt(compiler.parsed, at, `"${name}" cannot be changed: Envoy refuses it or it frames the message`));
    }
  };
  settings.request.removeHeaders.forEach((h, i) => check(h, [...path, "request", "removeHeaders", i]));
  settings.response.removeHeaders.forEach((h, i) => check(h, [...path, "response", "removeHeaders", i]));
  Object.keys(settings.response.setHeaders).forEach((h) => check(h, [...path, "response", "setHeaders", h]));
  Object.keys(settings.denyResponse.headers).forEach((h) => check(h, [...path, "denyResponse", "headers", h]));
}

/**
 * Compiles what equal settings would compile to the same thing only once per policy (scopes often
 * share it); a failure becomes an issue at `path` and undefined.
 */
function compileOnce<T>(compiler: Compiler, cache: Map<string, T>, key: string, path: Path, build: () => T): T | undefined {
  const cached = cache.get(key);
  if (cached !== undefined) return cached;
  try {
    const built = build();
    cache.set(key, built);
    return built;
  } catch (error) {
    compiler.issues.push(issueAt(compiler.parsed, path, error instanceof Error ? error.message : String(error)));
    return undefined;
  }
}

function redactionFor(compiler: Compiler, settings: PolicyRedaction, path: Path): CompiledRedaction | undefined {
  if (!settings.enabled) return undefined;
  const redactorSettings = {
    detectors: settings.detectors ?? DEFAULT_REDACTION_DETECTORS,
    custom: settings.custom,
    jsonFields: settings.jsonFields,
    mask: settings.mask,
  };
  const redactor = compileOnce(compiler, compiler.redactors, canonicalJson(redactorSettings), path, () => compileRedactor(redactorSettings));
  if (redactor === undefined) return undefined;
  // A response without a content type is not redacted: nothing says what its bytes are.
  return { redactor, appliesTo: bodyFilter(settings.contentTypes, false), compressed: settings.compressed, maxDecompressedBytes: settings.maxDecompressedBytes };
}

function scoped(compiler: Compiler, name: string, settings: PolicySettings, path: Path): ScopedPolicy | undefined {
  const rules = rulesFor(compiler, settings, path);
  checkReferences(compiler, settings, rules, path);
  checkHeaderNames(compiler, settings, path);
  const engineConfig = engineSettings(settings, rules);
  const key = canonicalJson({ ...engineConfig, rules: rules.map((r) => r.id) });
  const engine = compileOnce(compiler, compiler.engines, key, path, () => compileEngine(engineConfig));
  if (engine === undefined) return undefined;
  for (const rule of rules) compiler.usedRules.set(rule.id, rule);
  // Targets are parsed here, as rule targets are: a target no rule could have is an error.
  const conditional = settings.exclusions.flatMap((e, i): readonly ConditionalExclusion[] => {
    if (e.when === undefined && e.targets === undefined) return [];
    const known = compiler.exclusions.get(e);
    if (known !== undefined) return known;
    let compiled: readonly ConditionalExclusion[] = [];
    try {
      compiled = [{ applies: compileConditions(e.when), filter: compileMatchFilter({ rules: e.rules, targets: e.targets }) }];
    } catch (error) {
      compiler.issues.push(issueAt(compiler.parsed, [...path, "exclusions", i], error instanceof Error ? error.message : String(error)));
    }
    compiler.exclusions.set(e, compiled);
    return compiled;
  });
  return {
    scope: name,
    mode: settings.mode,
    engine,
    phaseBudgetMs: settings.limits.phaseBudgetMs,
    onError: settings.failure.onError,
    denyHeaders: Object.entries(settings.denyResponse.headers),
    inspectsBody: bodyFilter(settings.inspectContentTypes),
    exclusions: conditional.length === 0 ? () => NO_EXCLUSIONS : (request) => conditional.filter((e) => e.applies(request)).map((e) => e.filter),
    monitoredRules: settings.ruleOverrides.filter((o) => o.mode === "monitor").map((o) => ({ rules: o.rules })),
    requestChanges: settings.request,
    responseChanges: settings.response,
    redaction: redactionFor(compiler, settings.response.redaction, [...path, "response", "redaction"]),
  };
}

/** `rule bad-rule field regex: ...` → `regex`: the field an engine error names, if any. */
function fieldOf(message: string): string | undefined {
  return /\bfield (\w+)/.exec(message)?.[1];
}

/**
 * Custom rules one by one, so that every bad rule is reported at its own field: shape, targets,
 * transformations and pattern (each rule compiled alone), and ids unique among all rules.
 */
function checkCustomRules(parsed: ParsedPolicy, issues: PolicyIssue[]): RuleDefinition[] {
  if (parsed.document.spec.rules.length === 0) return [];
  const builtinIds = new Set(loadRulePacks(listBuiltinPacks()).map((r) => r.id));
  const seen = new Map<string, number>();
  const rules: RuleDefinition[] = [];
  parsed.document.spec.rules.forEach((raw, index) => {
    const at: Path = ["spec", "rules", index];
    try {
      const [rule] = parseRuleDefinitions([raw], parsed.source);
      if (rule === undefined) return;
      compileEngine({ ...DEFAULT_ENGINE_SETTINGS, rules: [rule] });
      const earlier = seen.get(rule.id);
      if (builtinIds.has(rule.id)) issues.push(issueAt(parsed, [...at, "id"], `rule id "${rule.id}" is already a built-in rule`));
      else if (earlier !== undefined) issues.push(issueAt(parsed, [...at, "id"], `rule id "${rule.id}" is already used by spec.rules[${earlier}]`));
      else {
        seen.set(rule.id, index);
        rules.push(rule);
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const field = fieldOf(message);
      issues.push(issueAt(parsed, field === undefined ? at : [...at, field], message));
    }
  });
  return rules;
}

export function compilePolicy(parsed: ParsedPolicy): ActivePolicy {
  const { document, source } = parsed;
  const issues: PolicyIssue[] = [];
  const customRules = checkCustomRules(parsed, issues);
  const compiler: Compiler = { parsed, issues, engines: new Map(), redactors: new Map(), customRules, usedRules: new Map(), exclusions: new Map() };
  const base = scoped(compiler, "spec", document.spec, ["spec"]);

  const seenMatches = new Map<string, number>();
  const seenNames = new Map<string, number>();
  const scopes: { match: (typeof document.spec.scopes)[number]["match"]; value: ScopedPolicy }[] = [];
  document.spec.scopes.forEach((scope, index) => {
    const path: Path = ["spec", "scopes", index];
    const matchKey = canonicalJson(scope.match);
    const earlier = seenMatches.get(matchKey);
    if (earlier !== undefined) {
      issues.push(issueAt(parsed, [...path, "match"], `scope "${scope.name}" has the same match as scope "${document.spec.scopes[earlier]?.name}": it could never apply`));
    }
    if (seenNames.has(scope.name)) issues.push(issueAt(parsed, [...path, "name"], `scope name "${scope.name}" is used twice`));
    seenMatches.set(matchKey, index);
    seenNames.set(scope.name, index);
    const policy = scoped(compiler, scope.name, scope.settings, path);
    if (policy) scopes.push({ match: scope.match, value: policy });
  });
  if (issues.length > 0 || base === undefined) throw new PolicyError(source, issues);

  const rules = [...compiler.usedRules.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return {
    name: document.metadata.name,
    version: document.metadata.version,
    hash: policyHash(document, rules),
    resolve: scopes.length === 0 ? () => base : resolver(new ScopeIndex(scopes), base),
  };
}

function resolver(index: ScopeIndex<ScopedPolicy>, base: ScopedPolicy): ActivePolicy["resolve"] {
  return (request) => index.find(request) ?? base;
}

/**
 * The hash covers the document with its defaults and the rules it enforces, so two instances
 * report the same hash exactly when they enforce the same thing, whatever the meshrasp build.
 */
function policyHash(document: ParsedPolicy["document"], rules: readonly RuleDefinition[]): string {
  return createHash("sha256").update(canonicalJson({ document, rules })).digest("hex");
}
