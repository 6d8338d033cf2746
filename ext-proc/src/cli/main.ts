#!/usr/bin/env node
/** The `meshrasp` command: argument parsing and dispatch only. */
import { parseArgs } from "node:util";
import type { LevelWithSilent } from "pino";
import { compilePolicy } from "../policy/compile-policy.js";
import { readPolicyFile } from "../policy/policy-document.js";
import { PolicyError } from "../policy/policy-error.js";
import { disablePretenuring } from "../server/pretenuring.js";
import { runCheck } from "./check-command.js";
import { UsageError } from "./listen-address.js";
import { runReplay } from "./replay-command.js";
import { runWhatIf } from "./what-if-command.js";
import { SERVE_DEFAULTS, startMeshrasp } from "./serve.js";

const USAGE = `usage: meshrasp <command> [options]

commands:
  serve     [--policy FILE] [--shadow-policy FILE] [--grpc HOST:PORT] [--admin HOST:PORT]
            [--drain-ms N] [--max-message-bytes N] [--log-level LEVEL]
            Run the ext_proc server. Each flag can also come from the environment:
            MESHRASP_POLICY, MESHRASP_SHADOW_POLICY, MESHRASP_GRPC (default ${SERVE_DEFAULTS.grpc}), MESHRASP_ADMIN
            (default ${SERVE_DEFAULTS.admin}), MESHRASP_DRAIN_MS, MESHRASP_MAX_MESSAGE_BYTES,
            MESHRASP_LOG_LEVEL. Without a policy, the built-in default policy is used.
  validate  FILE...   Check policy files; print each one's hash, or every error (exit 1).
  check     Inspect one request (flags, or a JSON record on stdin) as the server would, its scope
            included; print the verdict, its scope and whether it would be blocked (exit 1).
  replay    [--policy FILE] [--out VERDICTS.jsonl] CORPUS.jsonl[.gz]...
            Run recorded requests through the policy as the server would; print detection rates.
  replay    --policy NEW --baseline OLD CORPUS.jsonl[.gz]...
            List the recorded requests whose verdict changes from OLD to NEW, with the rules
            responsible, and a summary line.
`;

const LOG_LEVELS = new Set(["fatal", "error", "warn", "info", "debug", "trace", "silent"]);

function positiveInteger(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new UsageError(`${flag}: "${text}" is not a positive integer`);
  return value;
}

async function serve(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      policy: { type: "string" },
      "shadow-policy": { type: "string" },
      grpc: { type: "string" },
      admin: { type: "string" },
      "drain-ms": { type: "string" },
      "max-message-bytes": { type: "string" },
      "log-level": { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  });
  const env = process.env;
  const logLevel = values["log-level"] ?? env.MESHRASP_LOG_LEVEL ?? "info";
  if (!LOG_LEVELS.has(logLevel)) throw new UsageError(`--log-level: "${logLevel}" is not one of ${[...LOG_LEVELS].join(", ")}`);
  // Process-wide, so set by the process that is the server rather than in startMeshrasp (see pretenuring.ts).
  disablePretenuring();
  const app = await startMeshrasp({
    policyFile: values.policy ?? env.MESHRASP_POLICY,
    shadowPolicyFile: values["shadow-policy"] ?? env.MESHRASP_SHADOW_POLICY,
    grpc: values.grpc ?? env.MESHRASP_GRPC ?? SERVE_DEFAULTS.grpc,
    admin: values.admin ?? env.MESHRASP_ADMIN ?? SERVE_DEFAULTS.admin,
    drainMs: positiveInteger(values["drain-ms"] ?? env.MESHRASP_DRAIN_MS, "--drain-ms"),
    maxMessageBytes: positiveInteger(values["max-message-bytes"] ?? env.MESHRASP_MAX_MESSAGE_BYTES, "--max-message-bytes"),
    logLevel: logLevel as LevelWithSilent,
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      app.logger.info({ event: "signal", signal });
      process.off("SIGTERM", stop);
      process.off("SIGINT", stop);
      void app.shutdown().then(resolve);
    };
    process.on("SIGTERM", stop);
    process.on("SIGINT", stop);
  });
  return 0;
}

function validate(files: string[]): number {
  if (files.length === 0) throw new UsageError("validate: name at least one policy file");
  let failed = false;
  for (const file of files) {
    try {
      const policy = compilePolicy(readPolicyFile(file));
      process.stdout.write(`${file}: ok ${policy.name} ${policy.version} sha256:${policy.hash}\n`);
    } catch (error) {
      if (!(error instanceof PolicyError)) throw error;
      failed = true;
      for (const line of error.lines()) process.stderr.write(`${line}\n`);
    }
  }
  return failed ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  switch (command) {
    case "serve":
      return serve(rest);
    case "validate":
      return validate(rest);
    case "check":
      return runCheck(rest, io);
    case "replay":
      return rest.some((arg) => arg === "--baseline" || arg.startsWith("--baseline=")) ? runWhatIf(rest, io) : runReplay(rest, io);
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(USAGE);
      return command === undefined ? 1 : 0;
    default:
      throw new UsageError(`unknown command "${command}"\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof PolicyError) {
      for (const line of error.lines()) process.stderr.write(`meshrasp: ${line}\n`);
    } else if (error instanceof UsageError || (error instanceof Error && "code" in error && String(error.code).startsWith("ERR_PARSE_ARGS"))) {
      process.stderr.write(`meshrasp: ${error.message}\n`);
    } else {
      process.stderr.write(`meshrasp: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exitCode = 1;
  },
);
