/**
 * Starts meshrasp in-process (test/support/in-process.ts), with its default policy unless told otherwise, once per test
 * file, and gives the tests a fake Envoy connected to it plus its admin endpoint.
 */
import { afterAll, afterEach, beforeAll } from "vitest";
import { credentials } from "@grpc/grpc-js";
import {
  HealthCheckResponse_ServingStatus,
  HealthClient,
} from "../../protos/generated/grpc/health/v1/health.js";
import type { Meshrasp, ServeOptions } from "../../ext-proc/src/cli/serve.js";
import { startInProcess } from "../support/in-process.js";
import { AdminClient } from "./admin-metrics.js";
import { FakeEnvoy } from "./fake-envoy.js";

export interface MeshraspUnderTest {
  readonly envoy: FakeEnvoy;
  readonly admin: AdminClient;
  /** Every JSON log line the server wrote so far, parsed. */
  logLines(): readonly Record<string, unknown>[];
  /** `grpc.health.v1.Health/Check` for the whole server (empty service name). */
  health(): Promise<HealthCheckResponse_ServingStatus>;
}

export interface RunningMeshrasp extends MeshraspUnderTest {
  /** The server itself, for what only it can tell or do (its policy, a reload, its metrics registry). */
  readonly app: Meshrasp;
  /** `Meshrasp.shutdown()`: stops accepting, drains, closes. The fake Envoy stays connected. */
  shutdown(): Promise<void>;
  /** Shuts the server down and closes the clients. */
  stop(): Promise<void>;
}

/**
 * Starts one server; `useMeshrasp` is the usual way, this is for tests that stop it themselves or start it with their
 * own options (policy files, polling, drain time); the drain time defaults to 200 ms.
 */
export async function startMeshraspUnderTest(options: Partial<ServeOptions> = {}): Promise<RunningMeshrasp> {
  const running = await startInProcess({ drainMs: 200, ...options });
  const address = `127.0.0.1:${running.app.grpcPort}`;
  const envoy = new FakeEnvoy(address);
  const healthClient = new HealthClient(address, credentials.createInsecure());
  return {
    app: running.app,
    envoy,
    admin: new AdminClient(running.app.adminPort),
    logLines: () => running.logs,
    health: () =>
      new Promise((resolve, reject) => {
        healthClient.check({ service: "" }, (error, response) => (error === null ? resolve(response.status) : reject(error)));
      }),
    shutdown: () => running.app.shutdown(),
    async stop() {
      envoy.close();
      healthClient.close();
      await running.stop();
    },
  };
}

/** Registers the hooks that start and stop the server for the calling test file. */
export function useMeshrasp(): MeshraspUnderTest {
  let running: RunningMeshrasp | undefined;
  const current = (): RunningMeshrasp => {
    if (running === undefined) throw new Error("meshrasp is not running (beforeAll failed?)");
    return running;
  };
  beforeAll(async () => {
    running = await startMeshraspUnderTest();
  });
  afterEach(() => {
    running?.envoy.cancelAll();
  });
  afterAll(async () => {
    await running?.stop();
  });
  return {
    get envoy() {
      return current().envoy;
    },
    get admin() {
      return current().admin;
    },
    logLines: () => current().logLines(),
    health: () => current().health(),
  };
}

export { HealthCheckResponse_ServingStatus as ServingStatus };
