/**
 * meshrasp started in the test process on loopback ports, with its log lines collected instead of
 * printed, and an ext_proc client pointed at it.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { credentials } from "@grpc/grpc-js";
import { ExternalProcessorClient } from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { startMeshrasp, type Meshrasp, type ServeOptions } from "../../ext-proc/src/cli/serve.js";

export interface InProcess {
  readonly app: Meshrasp;
  readonly client: ExternalProcessorClient;
  /** Every JSON log line written so far. */
  readonly logs: Record<string, unknown>[];
  stop(): Promise<void>;
}

/** Writes text to a fresh temporary file and returns its path. */
export function policyFile(text: string, name = "policy.yaml"): string {
  const file = join(mkdtempSync(join(tmpdir(), "meshrasp-test-")), name);
  writeFileSync(file, text);
  return file;
}

export async function startInProcess(options: Partial<ServeOptions> = {}): Promise<InProcess> {
  const logs: Record<string, unknown>[] = [];
  // A write may end inside a line: keep the unfinished tail for the next one.
  let partial = "";
  const app = await startMeshrasp({
    grpc: "127.0.0.1:0",
    admin: "127.0.0.1:0",
    logLevel: "info",
    processMetrics: false,
    logDestination: new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        const lines = (partial + chunk.toString()).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) if (line !== "") logs.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    }),
    ...options,
  });
  const client = new ExternalProcessorClient(`127.0.0.1:${app.grpcPort}`, credentials.createInsecure());
  return {
    app,
    client,
    logs,
    stop: async () => {
      client.close();
      await app.shutdown();
    },
  };
}
