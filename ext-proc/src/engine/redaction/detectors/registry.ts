import type { Detector } from "../detector.js";
import { apiToken } from "./api-token.js";
import { awsAccessKey } from "./aws-access-key.js";
import { awsSecretKey } from "./aws-secret-key.js";
import { creditCard } from "./credit-card.js";
import { email } from "./email.js";
import { iban } from "./iban.js";
import { jwt } from "./jwt.js";
import { phone } from "./phone.js";
import { privateKey } from "./private-key.js";

/** Every built-in detector, by the name a policy uses. Unknown names fail at compile time. */
export const BUILT_IN_DETECTORS: ReadonlyMap<string, Detector> = new Map(
  [creditCard, iban, awsAccessKey, awsSecretKey, privateKey, jwt, apiToken, email, phone].map((d) => [d.name, d]),
);

/** Opt-in only: too common in ordinary responses to mask by default. */
const OPT_IN = new Set(["email", "phone"]);

/** The detectors a policy gets when it names none: every built-in except email and phone. */
export const DEFAULT_REDACTION_DETECTORS: readonly string[] = [...BUILT_IN_DETECTORS.keys()].filter((name) => !OPT_IN.has(name));
