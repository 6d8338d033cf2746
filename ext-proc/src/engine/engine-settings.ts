import type { RuleDefinition } from "./rule-definition.js";

/** How much of a transaction the engine inspects. See docs/engine.md for why each default. */
export interface EngineLimits {
  /** Bytes of each body (request, response) inspected; the rest is not. */
  readonly maxBodyBytes: number;
  /** Argument values (query, form, JSON leaves, multipart parts) inspected per request. */
  readonly maxArguments: number;
  /** JSON containers nested deeper than this are skipped. */
  readonly maxJsonDepth: number;
  /** Multipart parts inspected per request. */
  readonly maxMultipartParts: number;
  /** Passes of repeated decoding (URL decoding until stable). */
  readonly maxDecodePasses: number;
  /** Engine time per phase the caller should allow; the engine itself only asks its Budget. */
  readonly timeBudgetMs: number;
}

/** A compiled policy's knobs. Validated by `compileEngine`, which names the field it rejects. */
export interface EngineSettings {
  /** Rules above this paranoia level (1-4) are not loaded. */
  readonly paranoiaLevel: number;
  /** Inbound anomaly score at which a request is denied. */
  readonly inboundThreshold: number;
  /** Outbound anomaly score at which a response is denied. */
  readonly outboundThreshold: number;
  /** HTTP status of a deny caused by rules. */
  readonly denyStatus: number;
  readonly limits: EngineLimits;
  /** Past a limit: `allow` (inspect what fits, flag `truncated`) or `deny` with status 413. */
  readonly onLimit: "allow" | "deny";
  readonly rules: readonly RuleDefinition[];
  /** Rules removed by id. */
  readonly disabledRuleIds: readonly string[];
  /** Rules removed when any of their tags is listed (`attack-xss`, `paranoia-level/2`, `scanner`). */
  readonly disabledTags: readonly string[];
}

export const DEFAULT_LIMITS: EngineLimits = {
  maxBodyBytes: 2 * 1024 * 1024,
  maxArguments: 1024,
  maxJsonDepth: 64,
  maxMultipartParts: 128,
  maxDecodePasses: 4,
  timeBudgetMs: 50,
};

/** Defaults for everything but the rules, which come from packs and policies. */
export const DEFAULT_ENGINE_SETTINGS: Omit<EngineSettings, "rules"> = {
  paranoiaLevel: 1,
  inboundThreshold: 5,
  outboundThreshold: 4,
  denyStatus: 403,
  limits: DEFAULT_LIMITS,
  onLimit: "allow",
  disabledRuleIds: [],
  disabledTags: [],
};

/** HTTP status of a deny caused by a limit when `onLimit` is `deny`. */
export const LIMIT_DENY_STATUS = 413;
