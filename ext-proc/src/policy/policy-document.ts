/**
 * The policy document: YAML (or JSON, which is YAML) text in, a validated document with every
 * default filled in out. Every error names the YAML path and its line:column.
 */
import { readFileSync, statSync } from "node:fs";
import { Ajv, type ErrorObject } from "ajv";
import { LineCounter, isMap, isNode, isScalar, parseDocument, type Document, type Node } from "yaml";
import { packagePath } from "./package-root.js";
import { PolicyError, type PolicyIssue } from "./policy-error.js";

export type PolicyMode = "enforce" | "monitor" | "off";
export type LimitAction = "allow" | "deny";

export interface PolicyLimits {
  readonly maxBodyBytes: number;
  readonly maxArguments: number;
  readonly maxJsonDepth: number;
  readonly maxMultipartParts: number;
  readonly maxDecodePasses: number;
  readonly phaseBudgetMs: number;
  readonly onLimit: LimitAction;
}

/** Request properties an exclusion or a scope can be conditioned on. Absent: any. */
export interface PolicyConditions {
  readonly workloads?: readonly string[];
  readonly namespaces?: readonly string[];
  /** Host names without port; `*.example.com` matches any subdomain. */
  readonly hosts?: readonly string[];
  readonly pathPrefixes?: readonly string[];
  readonly methods?: readonly string[];
}

export interface PolicyExclusion {
  /** Rule ids, or tags written `tag:NAME`. */
  readonly rules: readonly string[];
  readonly when?: PolicyConditions;
  /** Only matches on these targets are ignored; absent: the rules are off for matching requests. */
  readonly targets?: readonly string[];
  readonly reason?: string;
}

export interface PolicyRedaction {
  readonly enabled: boolean;
  readonly detectors: readonly string[] | undefined;
  readonly custom: readonly { readonly name: string; readonly pattern: string }[];
  readonly jsonFields: readonly string[];
  readonly mask: { readonly char: string; readonly keepLast?: number | undefined };
  readonly contentTypes: readonly string[];
  readonly compressed: "recompress" | "identity" | "skip";
  readonly maxDecompressedBytes: number;
}

export interface PolicyRequestChanges {
  readonly removeHeaders: readonly string[];
  readonly tagUpstream: boolean;
}

export interface PolicyResponseChanges {
  readonly setHeaders: Readonly<Record<string, string>>;
  readonly removeHeaders: readonly string[];
  readonly onLeak: "block" | "redact" | "log";
  readonly redaction: PolicyRedaction;
}

export interface PolicyRuleOverride {
  readonly rules: readonly string[];
  readonly mode: "enforce" | "monitor";
}

/** Everything a scope can override. */
export interface PolicySettings {
  readonly mode: PolicyMode;
  readonly paranoiaLevel: 1 | 2 | 3 | 4;
  readonly anomalyThresholds: { readonly inbound: number; readonly outbound: number };
  readonly denyResponse: { readonly status: number; readonly headers: Readonly<Record<string, string>> };
  readonly limits: PolicyLimits;
  /** Request body content types inspected (`type/subtype`, `type/*`); undefined: every body. */
  readonly inspectContentTypes: readonly string[] | undefined;
  /** Undefined: every built-in pack. */
  readonly rulePacks: readonly string[] | undefined;
  readonly disabledRules: readonly string[];
  readonly failure: { readonly onError: LimitAction };
  readonly ruleOverrides: readonly PolicyRuleOverride[];
  readonly exclusions: readonly PolicyExclusion[];
  readonly request: PolicyRequestChanges;
  readonly response: PolicyResponseChanges;
}

export interface PolicyScope {
  readonly name: string;
  readonly match: Omit<PolicyConditions, "methods">;
  /** The scope's effective settings: its own values over the spec's. */
  readonly settings: PolicySettings;
}

export interface PolicyDocument {
  readonly apiVersion: "meshrasp.io/v1alpha1";
  readonly kind: "RaspPolicy";
  readonly metadata: { readonly name: string; readonly version: string };
  readonly spec: PolicySettings & {
    /** Custom rules, shared by every scope. */
    readonly rules: readonly unknown[];
    readonly scopes: readonly PolicyScope[];
  };
}

/** Every default of the policy in one place. Each limit's rationale is in docs/engine.md. */
export const POLICY_DEFAULTS = {
  mode: "enforce",
  paranoiaLevel: 1,
  anomalyThresholds: { inbound: 5, outbound: 4 },
  denyResponse: { status: 403, headers: {} },
  limits: {
    maxBodyBytes: 2 * 1024 * 1024,
    maxArguments: 1000,
    maxJsonDepth: 64,
    maxMultipartParts: 100,
    maxDecodePasses: 3,
    phaseBudgetMs: 50,
    onLimit: "allow",
  },
  inspectContentTypes: undefined,
  rulePacks: undefined,
  disabledRules: [],
  failure: { onError: "deny" },
  ruleOverrides: [],
  exclusions: [],
  request: { removeHeaders: [], tagUpstream: false },
  response: {
    setHeaders: {},
    removeHeaders: [],
    onLeak: "log",
    redaction: {
      enabled: false,
      detectors: undefined,
      custom: [],
      jsonFields: [],
      mask: { char: "*" },
      contentTypes: ["application/json", "text/*", "application/xml", "application/javascript", "application/x-www-form-urlencoded"],
      compressed: "recompress",
      /** 64 MiB: more than any page a browser or API client expects, far below a bomb's output. */
      maxDecompressedBytes: 64 * 1024 * 1024,
    },
  },
} as const satisfies PolicySettings;

let validator: ReturnType<Ajv["compile"]> | undefined;

function validate(value: unknown): ErrorObject[] {
  if (validator === undefined) {
    const schema: unknown = JSON.parse(readFileSync(packagePath("ext-proc/policies/policy.schema.json"), "utf8"));
    validator = new Ajv({ allErrors: true, strict: true }).compile(schema as object);
  }
  return validator(value) ? [] : [...(validator.errors ?? [])];
}

/** "/spec/limits/maxBodyBytes" → ["spec", "limits", "maxBodyBytes"] (array indexes as numbers). */
function pathSegments(pointer: string): (string | number)[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function yamlPath(segments: readonly (string | number)[]): string {
  return segments.reduce<string>((out, s) => (typeof s === "number" ? `${out}[${s}]` : out ? `${out}.${s}` : s), "");
}

function position(doc: Document, lines: LineCounter, segments: readonly (string | number)[]): { line: number; column: number } {
  // Point at the key of the offending entry; a missing entry is reported at its parent.
  for (let depth = segments.length; depth >= 0; depth -= 1) {
    const node = keyNode(doc, segments.slice(0, depth));
    if (node?.range) {
      const { line, col } = lines.linePos(node.range[0]);
      return { line, column: col };
    }
  }
  return { line: 1, column: 1 };
}

function keyNode(doc: Document, segments: readonly (string | number)[]): Node | undefined {
  const last = segments.at(-1);
  if (last === undefined) return isNode(doc.contents) ? doc.contents : undefined;
  const parent = segments.length === 1 ? doc.contents : doc.getIn(segments.slice(0, -1), true);
  if (isMap(parent)) {
    const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === last);
    if (pair && isNode(pair.key)) return pair.key;
  }
  const node = doc.getIn(segments, true);
  return isNode(node) ? node : undefined;
}

function describe(error: ErrorObject): { segments: (string | number)[]; message: string } {
  const segments = pathSegments(error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case "additionalProperties":
      return { segments: [...segments, String(params.additionalProperty)], message: "unknown field" };
    case "required":
      return { segments, message: `missing required field "${String(params.missingProperty)}"` };
    case "enum":
      return { segments, message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(", ")}` };
    case "const":
      return { segments, message: `must be ${JSON.stringify(params.allowedValue)}` };
    default:
      return { segments, message: error.message ?? error.keyword };
  }
}

/** Finds the line and column of a YAML path in the parsed text, for semantic errors found later. */
export type Locate = (segments: readonly (string | number)[]) => { line: number; column: number };

export interface ParsedPolicy {
  readonly document: PolicyDocument;
  readonly source: string;
  readonly locate: Locate;
}

/** Parses and validates policy text. `source` names the file in error messages. */
export function parsePolicy(text: string, source: string): ParsedPolicy {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PolicyError(
      source,
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
        return { path: "", line: pos.line, column: pos.col, message: `not valid YAML: ${e.message.split("\n")[0]}` };
      }),
    );
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  if (value === null || value === undefined) {
    throw new PolicyError(source, [{ path: "", line: 1, column: 1, message: "the policy is empty" }]);
  }
  const locate: Locate = (segments) => position(doc, lines, segments);
  const issues: PolicyIssue[] = validate(value).map((error) => {
    const { segments, message } = describe(error);
    return { path: yamlPath(segments), ...locate(segments), message };
  });
  if (issues.length > 0) throw new PolicyError(source, issues);
  return { document: withDefaults(value as RawPolicy), source, locate };
}

/** Parses and validates policy text into the document alone. */
export function parsePolicyDocument(text: string, source: string): PolicyDocument {
  return parsePolicy(text, source).document;
}

/** An issue at a YAML path of a parsed policy. */
export function issueAt(parsed: ParsedPolicy, segments: readonly (string | number)[], message: string): PolicyIssue {
  return { path: yamlPath(segments), ...parsed.locate(segments), message };
}

/** The bytes of a policy file; a missing file, a directory or a symlink loop is a PolicyError. */
export function readPolicyBytes(path: string): Buffer {
  try {
    if (statSync(path).isDirectory()) throw new Error("it is a directory");
    return readFileSync(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new PolicyError(path, [{ path: "", line: 0, column: 0, message: `cannot read the policy file: ${reason}` }]);
  }
}

export function readPolicyFile(path: string): ParsedPolicy {
  return parsePolicy(readPolicyBytes(path).toString("utf8"), path);
}

/** The built-in default policy shipped in the package. */
export function defaultPolicyPath(): string {
  return packagePath("ext-proc/policies/default.yaml");
}

type RawSettings = {
  -readonly [K in keyof PolicySettings]?: PolicySettings[K] extends readonly unknown[] | undefined
    ? PolicySettings[K]
    : PolicySettings[K] extends object
      ? Partial<PolicySettings[K]>
      : PolicySettings[K];
};
type RawPolicy = Omit<PolicyDocument, "metadata" | "spec"> & {
  metadata: { name: string; version?: string };
  spec?: RawSettings & {
    rules?: unknown[];
    scopes?: (RawSettings & { name: string; match: PolicyScope["match"] })[];
  };
};

/** Objects merge one level deep (limits, thresholds, deny response); lists and values replace. */
function mergeSettings(base: PolicySettings, raw: RawSettings): PolicySettings {
  return {
    mode: raw.mode ?? base.mode,
    paranoiaLevel: raw.paranoiaLevel ?? base.paranoiaLevel,
    anomalyThresholds: { ...base.anomalyThresholds, ...raw.anomalyThresholds },
    denyResponse: { ...base.denyResponse, ...raw.denyResponse },
    limits: { ...base.limits, ...raw.limits },
    inspectContentTypes: raw.inspectContentTypes ?? base.inspectContentTypes,
    rulePacks: raw.rulePacks ?? base.rulePacks,
    disabledRules: raw.disabledRules ?? base.disabledRules,
    failure: { ...base.failure, ...raw.failure },
    ruleOverrides: raw.ruleOverrides ?? base.ruleOverrides,
    exclusions: raw.exclusions ?? base.exclusions,
    request: { ...base.request, ...raw.request },
    response: {
      ...base.response,
      ...raw.response,
      redaction: { ...base.response.redaction, ...raw.response?.redaction, mask: { ...base.response.redaction.mask, ...raw.response?.redaction?.mask } },
    },
  };
}

function withDefaults(raw: RawPolicy): PolicyDocument {
  const { rules, scopes, ...own } = raw.spec ?? {};
  const settings = mergeSettings(POLICY_DEFAULTS, own);
  return {
    apiVersion: raw.apiVersion,
    kind: raw.kind,
    metadata: { name: raw.metadata.name, version: raw.metadata.version ?? "0" },
    spec: {
      ...settings,
      rules: rules ?? [],
      scopes: (scopes ?? []).map(({ name, match, ...overrides }) => ({ name, match, settings: mergeSettings(settings, overrides) })),
    },
  };
}
