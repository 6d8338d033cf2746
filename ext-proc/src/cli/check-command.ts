/**
 * `meshrasp check`: inspects one request, given by flags or as a JSON record on stdin, as the
 * server would (its scope resolved from host, path and method), and prints the verdict with every
 * match, the scope and whether the server would block it, as JSON. Exit code 1 when it would be
 * blocked, 0 otherwise (allowed, or a deny only logged).
 */
import { parseArgs } from "node:util";
import type { HttpRecord } from "../engine/http-record.js";
import { loadPolicyEngine } from "../policy/policy-engine.js";
import { inspectAsServer, type CommandIo } from "./replay-command.js";

const USAGE = `usage: meshrasp check [--policy FILE] [--method M] [--header 'Name: value']... [--body TEXT] URI
       meshrasp check [--policy FILE] < record.json
`;

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function recordFromFlags(uri: string, method: string, headerFlags: readonly string[], body: string | undefined): HttpRecord {
  const headers: Record<string, string> = {};
  for (const header of headerFlags) {
    const colon = header.indexOf(":");
    if (colon <= 0) throw new Error(`--header "${header}" is not "Name: value"`);
    headers[header.slice(0, colon).trim()] = header.slice(colon + 1).trim();
  }
  return { method, uri, headers, body: body ?? "" };
}

export async function runCheck(argv: string[], io: CommandIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      policy: { type: "string" },
      method: { type: "string", default: "GET" },
      header: { type: "string", multiple: true, default: [] },
      body: { type: "string" },
    },
    allowPositionals: true,
    strict: true,
  });
  let record: HttpRecord;
  try {
    if (positionals.length > 1) throw new Error("give one URI");
    const uri = positionals[0];
    if (uri !== undefined) {
      record = recordFromFlags(uri, values.method, values.header, values.body);
    } else {
      const parsed = JSON.parse(await readAll(io.stdin)) as Partial<HttpRecord>;
      if (typeof parsed.uri !== "string") throw new Error("the record on stdin needs a \"uri\"");
      record = { method: parsed.method ?? "GET", uri: parsed.uri, headers: parsed.headers ?? {}, body: parsed.body ?? "", encoding: parsed.encoding };
    }
  } catch (error) {
    io.stderr.write(`meshrasp check: ${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  const { verdict, matches, truncated, scope, blocked } = inspectAsServer(loadPolicyEngine(values.policy).policy, record);
  const result = { action: verdict.action, status: verdict.status, score: verdict.score, scope: scope.scope, blocked, truncated, matches };
  io.stdout.write(JSON.stringify(result, null, 2) + "\n");
  return blocked ? 1 : 0;
}
