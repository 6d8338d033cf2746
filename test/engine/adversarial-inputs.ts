/**
 * Adversarial inputs for throughput checks: random base64, and long runs of near-misses built
 * from each rule's own keywords and syntax characters (the fragments a DFA must keep tracking).
 */
import { randomBytes } from "node:crypto";
import type { RuleDefinition } from "../../ext-proc/src/engine/rule-definition.js";

export const MIB = 1024 * 1024;

export function randomBase64(bytes: number): string {
  return randomBytes(Math.ceil((bytes * 3) / 4)).toString("base64").slice(0, bytes);
}

const SYNTAX = ["'", '"', "<", ">", "(", ")", ";", "|", "&", "$", "{", "}", "/", "\\", "%", "=", "..", "--", "#", "`", " "];

/** Words and syntax of a pack's patterns, repeated with near-miss glue up to `bytes`. */
export function nearMisses(rules: readonly RuleDefinition[], bytes: number): string {
  const words = new Set<string>();
  for (const rule of rules) {
    const source = rule.matcher.kind === "regex" ? rule.matcher.pattern : rule.matcher.phrases.join(" ");
    for (const word of source.match(/[a-z_]{3,}/gi) ?? []) words.add(word);
  }
  const pieces = [...words];
  let out = "";
  let k = 0;
  while (out.length < bytes) {
    const word = pieces[k % Math.max(1, pieces.length)] ?? "x";
    const glue = SYNTAX[k % SYNTAX.length] ?? " ";
    // A keyword, a fragment of it and a syntax character: prefixes of matches, rarely a match.
    out += `${word}${glue}${word.slice(0, Math.ceil(word.length / 2))}${glue}`;
    k++;
  }
  return out.slice(0, bytes);
}
