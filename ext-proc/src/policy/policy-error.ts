/** A policy that cannot be loaded: every problem found, each with its YAML path and position. */

export interface PolicyIssue {
  /** YAML path of the offending value, e.g. `spec.limits.maxBodyBytes` or `spec.rules[2].pattern`. */
  readonly path: string;
  /** 1-based; 0 when the problem is not at a position in the file (e.g. it cannot be read). */
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

export class PolicyError extends Error {
  readonly code = "policy_invalid";

  constructor(
    readonly source: string,
    readonly issues: readonly PolicyIssue[],
  ) {
    super(`${source}: ${issues.map(formatIssue).join("; ")}`);
    this.name = "PolicyError";
  }

  /** One line per issue, `file:line:column: path: message`, for terminals and logs. */
  lines(): string[] {
    return this.issues.map((issue) => `${this.source}:${issue.line}:${issue.column}: ${formatIssue(issue)}`);
  }
}

function formatIssue(issue: PolicyIssue): string {
  return issue.path ? `${issue.path}: ${issue.message}` : issue.message;
}
