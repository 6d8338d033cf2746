/** A custom rule the shadow-policy tests add: the enforced policy allows /beta/, the shadow would block it. */
export const BETA_PATH_RULE = [
  "  rules:",
  "    - id: shadow-beta-path",
  "      message: beta endpoints are closed",
  "      category: policy",
  "      severity: critical",
  "      phase: request_headers",
  "      targets: [path]",
  "      regex: '^/beta/'",
];
