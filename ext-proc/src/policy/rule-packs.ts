/**
 * Built-in rule packs (ext-proc/rules/<name>.yaml) and custom rules from policy documents, both
 * turned into validated RuleDefinitions. Errors are EngineError `policy_invalid` naming the source,
 * the rule id and the field.
 */
import { readdirSync, readFileSync } from "node:fs";
import { parse } from "yaml";
import { EngineError } from "../engine/engine-error.js";
import type { RuleAction, RuleDefinition, RuleMatcher } from "../engine/rule-definition.js";
import type { Phase, Severity } from "../engine/types.js";
import { packagePath } from "./package-root.js";

const RULES_DIR = "ext-proc/rules";
const PHASES: readonly Phase[] = ["request_headers", "request_body", "response_headers", "response_body"];
const SEVERITIES: readonly Severity[] = ["critical", "error", "warning", "notice"];
const ACTIONS: readonly RuleAction[] = ["score", "deny", "log", "redact"];
const FIELDS = new Set([
  "id", "message", "category", "paranoia", "tags", "severity", "phase", "targets", "transforms",
  "regex", "phrases", "wordBoundary", "caseSensitive", "negate", "action",
]);
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/;

type RawRule = Record<string, unknown>;

class FieldReader {
  constructor(
    private readonly raw: RawRule,
    private readonly where: string,
  ) {}

  fail(field: string, reason: string): never {
    throw EngineError.policyInvalid(`${this.where} field ${field}`, reason);
  }

  string(field: string, fallback?: string): string {
    const value = this.raw[field] ?? fallback;
    if (typeof value !== "string" || value === "") this.fail(field, "must be a non-empty string");
    return value;
  }

  oneOf<T extends string>(field: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw[field] ?? fallback;
    if (!allowed.includes(value as T)) this.fail(field, `must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
    return value as T;
  }

  strings(field: string, fallback: readonly string[] = []): readonly string[] {
    const value = this.raw[field] ?? fallback;
    if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v !== "")) {
      this.fail(field, "must be a list of non-empty strings");
    }
    return value as string[];
  }

  boolean(field: string, fallback: boolean): boolean {
    const value = this.raw[field] ?? fallback;
    if (typeof value !== "boolean") this.fail(field, "must be true or false");
    return value;
  }
}

function parseRule(raw: unknown, defaults: RawRule, source: string, index: number): RuleDefinition {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw EngineError.policyInvalid(`${source}: rule #${index + 1}`, "must be a mapping");
  }
  const rule: RawRule = { ...defaults, ...(raw as RawRule) };
  const id = typeof rule.id === "string" ? rule.id : `#${index + 1}`;
  const read = new FieldReader(rule, `${source}: rule ${id}`);
  for (const key of Object.keys(raw)) if (!FIELDS.has(key)) read.fail(key, "unknown field");
  if (!ID.test(read.string("id"))) read.fail("id", "must be letters, digits, '.', '_' or '-' (at most 100)");
  const category = read.string("category");
  const paranoia = rule.paranoia ?? 1;
  if (typeof paranoia !== "number" || !Number.isInteger(paranoia) || paranoia < 1 || paranoia > 4) {
    return read.fail("paranoia", "must be an integer from 1 to 4");
  }
  if ((rule.regex === undefined) === (rule.phrases === undefined)) read.fail("regex", "give exactly one of regex or phrases");
  const caseSensitive = read.boolean("caseSensitive", false);
  const matcher: RuleMatcher =
    rule.regex !== undefined
      ? { kind: "regex", pattern: read.string("regex"), caseSensitive }
      : { kind: "phrases", phrases: read.strings("phrases"), caseSensitive, wordBoundary: read.boolean("wordBoundary", false) };
  const tags = new Set([`attack-${category}`, `paranoia-level/${paranoia}`, ...read.strings("tags")]);
  return {
    id,
    message: read.string("message", id),
    category,
    paranoiaLevel: paranoia,
    tags: [...tags],
    severity: read.oneOf("severity", SEVERITIES, "critical"),
    phase: read.oneOf("phase", PHASES, "request_headers"),
    targets: read.strings("targets"),
    transforms: read.strings("transforms"),
    matcher,
    negate: read.boolean("negate", false),
    action: read.oneOf("action", ACTIONS, "score"),
  };
}

/** Rule definitions from a policy document's custom rules (or any list of rule mappings). */
export function parseRuleDefinitions(raw: unknown, sourceLabel: string, defaults: RawRule = {}): RuleDefinition[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw EngineError.policyInvalid(`${sourceLabel}: rules`, "must be a list of rules");
  return raw.map((rule, index) => parseRule(rule, defaults, sourceLabel, index));
}

/*
 * The packs ship inside the package and never change while it runs: each is read and parsed once
 * per process, however many scopes, reloads and policy checks ask for it.
 */
let packNames: readonly string[] | undefined;
const parsedPacks = new Map<string, readonly RuleDefinition[]>();

/** Names of the packs shipped in ext-proc/rules, sorted. */
export function listBuiltinPacks(): string[] {
  packNames ??= readdirSync(packagePath(RULES_DIR))
    .filter((file) => file.endsWith(".yaml"))
    .map((file) => file.slice(0, -".yaml".length))
    .sort();
  return [...packNames];
}

function loadPack(name: string): readonly RuleDefinition[] {
  let rules = parsedPacks.get(name);
  if (rules === undefined) {
    rules = readPack(name);
    parsedPacks.set(name, rules);
  }
  return rules;
}

function readPack(name: string): RuleDefinition[] {
  if (!/^[a-z0-9-]+$/.test(name) || !listBuiltinPacks().includes(name)) {
    throw EngineError.policyInvalid(`rule pack ${name}`, `no such built-in pack (known: ${listBuiltinPacks().join(", ")})`);
  }
  const file = `${RULES_DIR}/${name}.yaml`;
  let document: unknown;
  try {
    document = parse(readFileSync(packagePath(file), "utf8"));
  } catch (error) {
    throw EngineError.policyInvalid(file, `not valid YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (typeof document !== "object" || document === null) throw EngineError.policyInvalid(file, "must be a mapping");
  const { defaults, rules } = document as { defaults?: unknown; rules?: unknown };
  if (defaults !== undefined && (typeof defaults !== "object" || defaults === null || Array.isArray(defaults))) {
    throw EngineError.policyInvalid(`${file}: defaults`, "must be a mapping");
  }
  return parseRuleDefinitions(rules, file, (defaults ?? {}) as RawRule);
}

/** The rules of the named built-in packs, in the order given. */
export function loadRulePacks(names: readonly string[]): RuleDefinition[] {
  return names.flatMap(loadPack);
}
