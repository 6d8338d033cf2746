import { tokenEnd, tokenStart, type Detector } from "../detector.js";

/**
 * Each format has a registered, distinctive prefix and a fixed or narrow length, so a match is
 * almost never something else.
 */
const FORMATS = [
  "gh[pousr]_[A-Za-z0-9]{36}", // GitHub classic tokens
  "github_pat_[A-Za-z0-9_]{82}", // GitHub fine-grained tokens
  "xox[abprs]-[0-9]{8,14}-[A-Za-z0-9-]{10,120}", // Slack
  "[sr]k_live_[A-Za-z0-9]{24,99}", // Stripe live secret and restricted keys
  "AIza[A-Za-z0-9_-]{35}", // Google API keys
  "glpat-[A-Za-z0-9_-]{20,64}", // GitLab personal access tokens
  "npm_[A-Za-z0-9]{36}", // npm
  "sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}", // OpenAI legacy keys (T3BlbkFJ is base64 "OpenAI")
  "sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,250}", // OpenAI project, service account and admin keys
  "sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,120}", // Anthropic
];

const TOKEN_CHARS = "A-Za-z0-9_-";

/** Provider API tokens with a well-known prefix. */
export const apiToken: Detector = {
  name: "api-token",
  pattern: `${tokenStart(TOKEN_CHARS)}(?P<secret>${FORMATS.join("|")})${tokenEnd(TOKEN_CHARS)}`,
  keepLast: 0,
};
