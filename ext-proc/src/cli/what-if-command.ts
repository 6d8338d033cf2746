/**
 * `meshrasp replay --policy NEW --baseline OLD CORPUS...`: what would change if NEW replaced OLD.
 * Each recorded request runs through both policies exactly as the server would run it (scope
 * resolution, exclusions, monitored rules, mode); requests whose outcome differs are listed with
 * the rules responsible, then one summary line.
 */
import { parseArgs } from "node:util";
import type { ActivePolicy } from "../policy/active-policy.js";
import { loadPolicyEngine } from "../policy/policy-engine.js";
import { UsageError } from "./listen-address.js";
import { inspectAsServer, readCorpusFile, type CommandIo, type CorpusRecord } from "./replay-command.js";

interface Outcome {
  readonly blocked: boolean;
  readonly status: number;
  readonly rules: ReadonlySet<string>;
}

/** How the server would answer this recorded request under this policy. */
function outcome(policy: ActivePolicy, record: CorpusRecord): Outcome {
  const { verdict, matches, blocked } = inspectAsServer(policy, record);
  return { blocked, status: blocked ? verdict.status : 200, rules: new Set(matches.filter((m) => !m.monitored).map((m) => m.ruleId)) };
}

function describe(o: Outcome): string {
  return o.blocked ? `deny ${o.status}` : "allow";
}

export async function runWhatIf(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { policy: { type: "string" }, baseline: { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  if (values.policy === undefined || values.baseline === undefined) throw new UsageError("replay: --baseline needs --policy too (the new policy)");
  if (positionals.length === 0) throw new UsageError("replay: name at least one corpus file");
  const next = loadPolicyEngine(values.policy).policy;
  const base = loadPolicyEngine(values.baseline).policy;
  let total = 0;
  const changed = { nowBlocked: { attack: 0, benign: 0 }, nowAllowed: { attack: 0, benign: 0 }, statusOnly: 0 };
  for (const file of positionals) {
    for (const record of readCorpusFile(file)) {
      total += 1;
      const before = outcome(base, record);
      const after = outcome(next, record);
      if (before.blocked === after.blocked && before.status === after.status) continue;
      if (before.blocked !== after.blocked) changed[after.blocked ? "nowBlocked" : "nowAllowed"][record.label] += 1;
      else changed.statusOnly += 1;
      const added = [...after.rules].filter((r) => !before.rules.has(r));
      const removed = [...before.rules].filter((r) => !after.rules.has(r));
      const rules = [...added.map((r) => `+${r}`), ...removed.map((r) => `-${r}`)].join(" ") || "(same rules; thresholds or mode differ)";
      io.stdout.write(`${record.id}\t${record.label}/${record.category}\t${describe(before)} -> ${describe(after)}\t${rules}\n`);
    }
  }
  const { nowBlocked: b, nowAllowed: a } = changed;
  io.stdout.write(
    `what-if: ${total} requests, ${b.attack + b.benign + a.attack + a.benign + changed.statusOnly} changed: ` +
      `${b.attack + b.benign} now denied (${b.attack} attack, ${b.benign} benign), ` +
      `${a.attack + a.benign} now allowed (${a.attack} attack, ${a.benign} benign), ${changed.statusOnly} with another status\n`,
  );
  return 0;
}
