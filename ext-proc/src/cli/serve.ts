/**
 * `meshrasp serve`: wires policy, telemetry, the ext_proc gRPC server and the admin HTTP server
 * together. Exported as a function so tests run the real thing in-process.
 */
import { once } from "node:events";
import { createServer, type AddressInfo, type Server as NetServer } from "node:net";
import { Server, ServerCredentials } from "@grpc/grpc-js";
import type { LevelWithSilent } from "pino";
import { HealthService } from "../../../protos/generated/grpc/health/v1/health.js";
import type { ActivePolicy } from "../policy/active-policy.js";
import { defaultPolicyPath, issueAt } from "../policy/policy-document.js";
import { PolicyStore, type PolicyCheck } from "../policy/policy-store.js";
import { createAdminServer } from "../server/admin-server.js";
import { extProcImplementation, extProcServiceDefinition } from "../server/ext-proc-service.js";
import { HealthState } from "../server/health-service.js";
import { createLogger, type Logger } from "../telemetry/logger.js";
import { createMetrics, type MeshraspMetrics } from "../telemetry/metrics.js";
import { formatAddress, parseListenAddress, UsageError, type ListenAddress } from "./listen-address.js";

export interface ServeOptions {
  /** gRPC listen address, HOST:PORT; port 0 picks a free port. */
  readonly grpc: string;
  /** Admin HTTP listen address, HOST:PORT. */
  readonly admin: string;
  /** Policy file; the built-in default policy when absent. */
  readonly policyFile?: string | undefined;
  /** A second policy evaluated in monitor mode on the same traffic; its verdicts never reach Envoy. */
  readonly shadowPolicyFile?: string | undefined;
  /** How long open streams may take to finish on shutdown before they are cut. */
  readonly drainMs?: number | undefined;
  /** Largest gRPC message accepted from Envoy (a BUFFERED body arrives as one message). */
  readonly maxMessageBytes?: number | undefined;
  readonly logLevel?: LevelWithSilent | undefined;
  readonly logDestination?: NodeJS.WritableStream | undefined;
  /** Node process metrics (memory, event loop) in /metrics; off in tests that start many servers. */
  readonly processMetrics?: boolean | undefined;
  /** How often the policy file is re-read, besides file-system events. */
  readonly pollMs?: number | undefined;
}

export interface Meshrasp {
  readonly grpcPort: number;
  readonly adminPort: number;
  readonly metrics: MeshraspMetrics;
  readonly logger: Logger;
  policy(): ActivePolicy;
  /** Re-reads the policy file now (the watcher does this on its own when the file changes). */
  reloadPolicy(): "unchanged" | "loaded" | "rejected";
  /** The same for the shadow policy; undefined without one. */
  reloadShadowPolicy(): "unchanged" | "loaded" | "rejected" | undefined;
  /** Stops accepting, lets open streams finish within the drain time, closes everything. */
  shutdown(): Promise<void>;
}

/** Defaults, in one place. */
export const SERVE_DEFAULTS = {
  grpc: "0.0.0.0:50051",
  admin: "0.0.0.0:9464",
  drainMs: 10_000,
  /** Envoy's default buffer limit is 1 MiB; 16 MiB leaves room for larger limits and framing. */
  maxMessageBytes: 16 * 1024 * 1024,
  /** Kubernetes takes up to a minute or two to update a ConfigMap volume; 2 s adds little to that. */
  pollMs: 2_000,
} as const;

/** Room for the ProcessingRequest fields around a body of the largest inspected size. */
const MESSAGE_OVERHEAD_BYTES = 64 * 1024;

/**
 * Every body limit of a policy, the spec's and each scope's, must fit in one gRPC message: Envoy
 * sends a BUFFERED body whole. A scope is named only when it sets a limit of its own; one that
 * inherits the spec's is covered by the spec's issue.
 */
function messageLimitCheck(maxMessageBytes: number): PolicyCheck {
  return (parsed) => {
    const { spec } = parsed.document;
    const limits = [
      { path: ["spec"], bytes: spec.limits.maxBodyBytes },
      ...spec.scopes
        .map((scope, index) => ({ path: ["spec", "scopes", index], bytes: scope.settings.limits.maxBodyBytes }))
        .filter((limit) => limit.bytes !== spec.limits.maxBodyBytes),
    ];
    return limits
      .filter(({ bytes }) => bytes + MESSAGE_OVERHEAD_BYTES > maxMessageBytes)
      .map(({ path, bytes }) =>
        issueAt(
          parsed,
          [...path, "limits", "maxBodyBytes"],
          `${bytes} does not fit the gRPC message limit (--max-message-bytes ${maxMessageBytes}, minus ${MESSAGE_OVERHEAD_BYTES} bytes of framing)`,
        ),
      );
  };
}

/** Listens on HOST:PORT and returns the port bound; a failure names the flag. */
async function listen(server: NetServer, address: ListenAddress, flag: string): Promise<number> {
  server.listen(address.port, address.host);
  try {
    await Promise.race([once(server, "listening"), once(server, "error").then(([e]) => Promise.reject(e as Error))]);
  } catch (error) {
    throw new UsageError(`${flag}: cannot listen: ${(error as Error).message}`);
  }
  return (server.address() as AddressInfo).port;
}

export async function startMeshrasp(options: ServeOptions): Promise<Meshrasp> {
  const grpcAddress = parseListenAddress(options.grpc, "--grpc");
  const adminAddress = parseListenAddress(options.admin, "--admin");
  const drainMs = options.drainMs ?? SERVE_DEFAULTS.drainMs;
  const maxMessageBytes = options.maxMessageBytes ?? SERVE_DEFAULTS.maxMessageBytes;
  const logger = createLogger(options.logLevel ?? "info", options.logDestination);
  const metrics = createMetrics({ processMetrics: options.processMetrics ?? true });

  const policyFile = options.policyFile ?? defaultPolicyPath();
  const fitsMessageLimit = messageLimitCheck(maxMessageBytes);
  const openStore = (file: string, role: "active" | "shadow", info: MeshraspMetrics["policyInfo"]): PolicyStore => {
    const publish = (policy: ActivePolicy): void => {
      info.reset();
      info.set({ name: policy.name, version: policy.version, hash: policy.hash }, 1);
    };
    const store: PolicyStore = new PolicyStore(
      file,
      {
        loaded: (policy, compileMs) => {
          publish(policy);
          metrics.policyReloads.inc({ result: "ok", policy: role });
          logger.info({ event: "policy_reloaded", policy: role, file, name: policy.name, version: policy.version, hash: policy.hash, compile_ms: Math.round(compileMs) });
        },
        rejected: (error, fileHash) => {
          metrics.policyReloads.inc({ result: "error", policy: role });
          logger.error({ event: "policy_rejected", policy: role, file, file_hash: fileHash, active_hash: store.current().hash, errors: error.lines() });
        },
      },
      fitsMessageLimit,
    );
    const initial = store.current();
    publish(initial);
    logger.info({
      event: "policy_loaded",
      policy: role,
      file,
      name: initial.name,
      version: initial.version,
      hash: initial.hash,
      compile_ms: Math.round(store.compileMs()),
    });
    return store;
  };
  const store = openStore(policyFile, "active", metrics.policyInfo);
  const shadow = options.shadowPolicyFile === undefined ? undefined : openStore(options.shadowPolicyFile, "shadow", metrics.shadowPolicyInfo);
  const pollMs = options.pollMs ?? SERVE_DEFAULTS.pollMs;
  if (options.policyFile !== undefined) store.watch(pollMs);
  shadow?.watch(pollMs);

  const health = new HealthState();
  let draining = false;
  const grpcServer = new Server({
    "grpc.max_receive_message_length": maxMessageBytes,
    "grpc.max_send_message_length": maxMessageBytes,
  });
  grpcServer.addService(extProcServiceDefinition(), extProcImplementation({
      currentPolicy: () => store.current(),
      currentShadow: shadow === undefined ? undefined : () => shadow.current(),
      metrics,
      logger,
    }),);
  grpcServer.addService(HealthService, health.implementation());
  // meshrasp owns the listening socket and hands connections to grpc-js, which leaves Nagle's
  // algorithm on for accepted sockets: with several small answers in flight (pipelined STREAMED
  // chunks), Nagle may hold one back until Envoy's delayed ACK. An RPC server wants every answer
  // sent at once.
  const injector = grpcServer.createConnectionInjector(ServerCredentials.createInsecure());
  const grpcListener = createServer({ noDelay: true }, (socket) => injector.injectConnection(socket));
  const grpcPort = await listen(grpcListener, grpcAddress, `--grpc ${options.grpc}`);

  const admin = createAdminServer({
    registry: metrics.registry,
    ready: () => health.isServing(),
    policy: () => {
      const view = (s: PolicyStore) => {
        const { name, version, hash } = s.current();
        return { file: s.path, name, version, hash, rejected: s.rejected() ?? null };
      };
      return { active: view(store), shadow: shadow === undefined ? null : view(shadow) };
    },
  });
  let adminPort: number;
  try {
    adminPort = await listen(admin, adminAddress, `--admin ${options.admin}`);
  } catch (error) {
    grpcListener.close();
    grpcServer.forceShutdown();
    throw error;
  }
  health.setServing(true);
  logger.info({ event: "listening", grpc: formatAddress({ ...grpcAddress, port: grpcPort }), admin: formatAddress({ ...adminAddress, port: adminPort }) });

  const shutdown = async (): Promise<void> => {
    if (draining) return;
    draining = true;
    health.setServing(false);
    health.closeWatchers();
    const open = await metrics.openStreams.get();
    logger.info({ event: "draining", open_streams: open.values[0]?.value ?? 0, drain_ms: drainMs });
    grpcListener.close();
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        logger.warn({ event: "drain_timeout", drain_ms: drainMs });
        grpcServer.forceShutdown();
        resolve();
      }, drainMs);
      grpcServer.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    store.close();
    shadow?.close();
    admin.closeAllConnections();
    await new Promise<void>((resolve) => admin.close(() => resolve()));
    logger.info({ event: "stopped" });
  };

  return {
    grpcPort,
    adminPort,
    metrics,
    logger,
    policy: () => store.current(),
    reloadPolicy: () => store.reload(),
    reloadShadowPolicy: () => shadow?.reload(),
    shutdown,
  };
}
