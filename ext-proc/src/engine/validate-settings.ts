import { EngineError } from "./engine-error.js";
import type { EngineLimits, EngineSettings } from "./engine-settings.js";

function integerIn(field: string, value: unknown, min: number, max: number): void {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw EngineError.policyInvalid(`setting ${field}`, `must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
}

const LIMIT_RANGES: Readonly<Record<keyof EngineLimits, readonly [number, number]>> = {
  maxBodyBytes: [1, 256 * 1024 * 1024],
  maxArguments: [1, 1_000_000],
  maxJsonDepth: [1, 10_000],
  maxMultipartParts: [1, 100_000],
  maxDecodePasses: [1, 16],
  timeBudgetMs: [1, 60_000],
};

/** Checks every setting once, naming the field and value it rejects. */
export function validateSettings(settings: EngineSettings): void {
  integerIn("paranoiaLevel", settings.paranoiaLevel, 1, 4);
  integerIn("inboundThreshold", settings.inboundThreshold, 1, 10_000);
  integerIn("outboundThreshold", settings.outboundThreshold, 1, 10_000);
  integerIn("denyStatus", settings.denyStatus, 200, 599);
  if (settings.onLimit !== "allow" && settings.onLimit !== "deny") {
    throw EngineError.policyInvalid("setting onLimit", `must be "allow" or "deny", got ${String(settings.onLimit)}`);
  }
  for (const [field, [min, max]] of Object.entries(LIMIT_RANGES) as [keyof EngineLimits, readonly [number, number]][]) {
    integerIn(`limits.${field}`, settings.limits[field], min, max);
  }
}
