/**
 * `npm run eval`: replays every shared corpus with the default policy (no server) and writes the
 * detection table to bench/results/detection.md. A request counts as blocked when the policy would
 * deny it (its scope enforces the deny), as the server would.
 */
import { writeFileSync } from "node:fs";
import { formatTallies, percent, replayFile, type FileTally, type Tally } from "../../ext-proc/src/cli/replay-command.js";
import { loadPolicyEngine } from "../../ext-proc/src/policy/policy-engine.js";
import { corpusLabel, corpusFiles, resultsPath } from "./corpus-location.js";

function find(tallies: readonly FileTally[], file: string, key: string): Tally {
  const tally = tallies.find((t) => t.file.startsWith(file));
  return tally?.byLabel.get(key) ?? tally?.byCategory.get(key) ?? { total: 0, blocked: 0 };
}

function rate(t: Tally): number {
  return t.total === 0 ? Number.NaN : (100 * t.blocked) / t.total;
}

function summary(tallies: readonly FileTally[]): string[] {
  const wcpTpr = rate(find(tallies, "openappsec-malicious", "attack"));
  const wcpFpr = rate(find(tallies, "openappsec-legit-sample", "benign"));
  const patCategories = [...(tallies.find((t) => t.file.startsWith("pat-payloads"))?.byCategory ?? [])]
    .filter(([key]) => key.startsWith("attack/"))
    .map(([key, t]) => `${key.slice(7)} ${percent(t)}`);
  const csic = ["sqli", "xss", "lfi", "protocol"].map((c) => `${c} ${percent(find(tallies, "csic2010", `attack/${c}`))}`);
  return [
    "| measure | meshrasp (default policy, paranoia level 1) |",
    "|---|---:|",
    `| openappsec-malicious TPR | ${wcpTpr.toFixed(2)} % |`,
    `| openappsec-legit-sample FPR | ${wcpFpr.toFixed(2)} % |`,
    `| **WCP balanced accuracy** | **${((wcpTpr + 100 - wcpFpr) / 2).toFixed(2)} %** |`,
    `| pat-payloads TPR | ${percent(find(tallies, "pat-payloads", "attack"))} % (${patCategories.join(", ")}) |`,
    `| mgm-false-positives FPR | ${percent(find(tallies, "mgm-false-positives", "benign"))} % |`,
    `| csic2010 injections TPR | ${csic.join(" / ")} % |`,
    `| csic2010 benign FPR | ${percent(find(tallies, "csic2010", "benign"))} % |`,
  ];
}

function main(): void {
  const files = corpusFiles();
  const { policy } = loadPolicyEngine();
  const tallies = files.map((file) => replayFile(policy, file));
  const table = formatTallies(tallies);
  const markdown = [
    "# Detection on the shared corpora",
    "",
    `Produced by \`npm run eval\` on ${new Date().toISOString().slice(0, 10)} from \`${corpusLabel()}\`.`,
    "Default policy, paranoia level 1, inbound threshold 5; a request counts as blocked when the policy would deny it (its scope enforces the deny).",
    "",
    ...summary(tallies),
    "",
    "Per file and class (TPR for attacks, FPR for benign traffic):",
    "",
    "```",
    table.trimEnd(),
    "```",
    "",
  ].join("\n");
  writeFileSync(resultsPath("detection.md"), markdown);
  process.stdout.write(table);
  process.stdout.write(`\n${summary(tallies).join("\n")}\n\nwritten to ${resultsPath("detection.md")}\n`);
}

try {
  main();
} catch (error) {
  process.stderr.write(`eval: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
