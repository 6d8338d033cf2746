/** The repository's Dockerfile as stages of instructions, for the tests that check the image. */
import { readFileSync } from "node:fs";
import { repoPath } from "./repo.js";

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

export interface Copy {
  from: string | undefined;
  sources: string[];
  destination: string;
}

/** Splits a Dockerfile into stages of instructions (continuations joined, comments dropped). */
export function parseDockerfile(text: string): { args: Map<string, string>; stages: Stage[] } {
  const lines = text.replace(/\\\n/g, " ").split("\n");
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const [, keyword = "", rest = ""] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: rest.replace(/\s+/g, " ") };
    if (instruction.keyword === "FROM") {
      const [, from = "", name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args) ?? [];
      stages.push({ from: from.replace(/\$\{(\w+)\}/g, (_m, v: string) => args.get(v) ?? `<${v}?>`), name, instructions: [] });
    } else if (instruction.keyword === "ARG" && stages.length === 0) {
      // NAME=VALUE, split at the first "=" (a value may hold more); a bare NAME has no default.
      const equals = instruction.args.indexOf("=");
      args.set(equals < 0 ? instruction.args : instruction.args.slice(0, equals), equals < 0 ? "" : instruction.args.slice(equals + 1));
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return { args, stages };
}

/** The arguments of a stage's instructions with this keyword, in order. */
export function instructions(stage: Stage, keyword: string): string[] {
  return stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

export function copies(stage: Stage): Copy[] {
  return instructions(stage, "COPY").map((args) => {
    const words = args.split(" ");
    const flags = words.filter((w) => w.startsWith("--"));
    const paths = words.filter((w) => !w.startsWith("--"));
    const from = flags.find((f) => f.startsWith("--from="))?.slice("--from=".length);
    return { from, sources: paths.slice(0, -1), destination: paths.at(-1) ?? "" };
  });
}

/** The exec-form command of a HEALTHCHECK's arguments (`--interval=… CMD ["…", …]`). */
export function healthcheckCommand(args: string): string[] {
  const json = /\bCMD (\[.*\])$/.exec(args)?.[1];
  if (json === undefined) throw new Error(`HEALTHCHECK has no exec-form CMD: ${args}`);
  return JSON.parse(json) as string[];
}

export const dockerfile = parseDockerfile(readFileSync(repoPath("Dockerfile"), "utf8"));
export const buildStage = dockerfile.stages.find((s) => s.name === "build") as Stage;
export const runtimeStage = dockerfile.stages.at(-1) as Stage;
