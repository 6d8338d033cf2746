/**
 * The gRPC side of ExternalProcessor/Process: one ProcessingSession per stream, errors turned into
 * non-OK statuses with a stable code, and cleanup on every way a stream can end.
 */
import type { ServerDuplexStream, ServiceDefinition, UntypedServiceImplementation } from "@grpc/grpc-js";
import {
  ExternalProcessorService,
  ProcessingRequest,
  type ProcessingResponse,
} from "../../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import type { ActivePolicy } from "../policy/active-policy.js";
import type { Logger } from "../telemetry/logger.js";
import type { MeshraspMetrics } from "../telemetry/metrics.js";
import { ProcessingSession } from "./processing-session.js";
import { encodeResponse } from "./response-encoding.js";
import { StreamError } from "./protocol-error.js";
import { TransientMemory } from "./transient-memory.js";
import { identityFromMetadata } from "./workload-identity.js";

/** A message whose bytes did not decode; handled inside the stream rather than by grpc-js. */
class MalformedMessage {
  constructor(readonly reason: string) {}
}

type Incoming = ProcessingRequest | MalformedMessage;

/**
 * Messages this large (body chunks, in practice) are counted for it: over 4 KiB, Node gives each
 * buffer an ArrayBuffer of its own, outside its shared pool, and those are what pile up (8 KiB
 * chunks of a streamed response grew a fresh server's RSS by 43 MiB over 100 MiB when they were not
 * counted). Smaller messages, plain API traffic, never force a collection.
 */
const LARGE_MESSAGE_BYTES = 4 * 1024;

/**
 * The generated service definition, except that a message which fails to decode reaches the
 * handler as a MalformedMessage, so it is counted, logged and answered like every other protocol
 * error of that stream, and that answers are encoded by response-encoding.ts (plain continues
 * encoded once, dynamic metadata written directly). Received bytes are counted for
 * transient-memory.ts.
 */
export function extProcServiceDefinition(): ServiceDefinition {
  // Shared by every stream of the server: the garbage of one stream's bodies is everyone's memory.
  // Made with the server, so V8's gc() is taken when it starts, not when a CLI command loads this module.
  const transientMemory = new TransientMemory();
  return {
    process: {
      ...ExternalProcessorService.process,
      requestDeserialize: (bytes: Buffer): Incoming => {
        try {
          const message = ProcessingRequest.decode(bytes);
          if (bytes.length >= LARGE_MESSAGE_BYTES) transientMemory.received(bytes.length);
          return message;
        } catch (error) {
          return new MalformedMessage(error instanceof Error ? error.message : String(error));
        }
      },
      responseSerialize: encodeResponse,
    },
  };
}

export interface ExtProcDependencies {
  /** The policy in force when a stream opens; the stream keeps it until it ends. */
  readonly currentPolicy: () => ActivePolicy;
  /** The shadow policy, if any, taken the same way. */
  readonly currentShadow?: (() => ActivePolicy | undefined) | undefined;
  readonly metrics: MeshraspMetrics;
  readonly logger: Logger;
}

export function extProcImplementation(deps: ExtProcDependencies): UntypedServiceImplementation {
  const { metrics, logger } = deps;
  const process = (call: ServerDuplexStream<Incoming, ProcessingResponse>): void => {
    metrics.streams.inc();
    metrics.openStreams.inc();
    const session = new ProcessingSession({
      policy: deps.currentPolicy(),
      metrics,
      logger,
      metadataIdentity: identityFromMetadata(call.metadata),
      shadow: deps.currentShadow?.(),
    });
    let open = true;
    const release = (): void => {
      if (!open) return;
      open = false;
      metrics.openStreams.dec();
      session.finish();
    };
    const fail = (error: StreamError): void => {
      // An asynchronous step can fail after Envoy has gone: nothing is left to end or count.
      if (!open) return;
      metrics.streamErrors.inc({ code: error.code });
      logger.error({ event: "stream_error", code: error.code, err: error.message, ...session.summary() });
      release();
      call.emit("error", { code: error.grpcStatus, details: `${error.code}: ${error.message}` });
    };
    /** Set while an asynchronous step runs; the call is paused meanwhile, so steps never overlap. */
    let pending: Promise<void> | undefined;
    const deliver = (answer: ProcessingResponse | undefined): void => {
      if (open && answer !== undefined) call.write(answer);
    };
    call.on("data", (message: Incoming) => {
      if (!open) return;
      try {
        if (message instanceof MalformedMessage) {
          throw new StreamError("malformed_message", `ProcessingRequest does not decode: ${message.reason}`);
        }
        const answer = session.handle(message);
        if (!(answer instanceof Promise)) {
          deliver(answer);
          return;
        }
        // Answers must leave in Envoy's order: read nothing more until this one is written.
        call.pause();
        pending = answer.then(deliver, (error: unknown) => fail(StreamError.from(error))).finally(() => {
          pending = undefined;
          if (open) call.resume();
        });
      } catch (error) {
        fail(StreamError.from(error));
      }
    });
    // Envoy half-closes when it has nothing more to send; every answer owed has been written.
    call.on("end", () => {
      const finish = (): void => {
        if (!open) return;
        release();
        call.end();
      };
      if (pending) void pending.then(finish);
      else finish();
    });
    // Envoy usually resets the stream right after its last message: normal, only cleanup.
    call.on("cancelled", release);
    call.on("close", release);
    call.on("error", release);
  };
  return { process };
}
