/** grpc.health.v1.Health: SERVING once a policy is compiled, NOT_SERVING while draining. */
import type { ServerUnaryCall, ServerWritableStream, UntypedServiceImplementation, sendUnaryData } from "@grpc/grpc-js";
import { status as GrpcStatus } from "@grpc/grpc-js";
import {
  type HealthCheckRequest,
  HealthCheckResponse,
  HealthCheckResponse_ServingStatus as ServingStatus,
} from "../../../protos/generated/grpc/health/v1/health.js";

/** The services a health client may ask about; "" is the server as a whole. */
const KNOWN_SERVICES = new Set(["", "envoy.service.ext_proc.v3.ExternalProcessor"]);

export class HealthState {
  private serving = false;
  private readonly watchers = new Set<ServerWritableStream<HealthCheckRequest, HealthCheckResponse>>();

  setServing(serving: boolean): void {
    if (this.serving === serving) return;
    this.serving = serving;
    for (const watcher of this.watchers) watcher.write(this.response(watcher.request.service));
  }

  isServing(): boolean {
    return this.serving;
  }

  /** Ends every Watch stream so that a draining server is not held open by health clients. */
  closeWatchers(): void {
    for (const watcher of this.watchers) watcher.end();
    this.watchers.clear();
  }

  response(service: string): HealthCheckResponse {
    if (!KNOWN_SERVICES.has(service)) return { status: ServingStatus.SERVICE_UNKNOWN };
    return { status: this.serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING };
  }

  implementation(): UntypedServiceImplementation {
    const check = (
      call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>,
      callback: sendUnaryData<HealthCheckResponse>,
    ): void => {
      if (!KNOWN_SERVICES.has(call.request.service)) {
        callback({ code: GrpcStatus.NOT_FOUND, details: `unknown service ${call.request.service}` });
        return;
      }
      callback(null, this.response(call.request.service));
    };
    const watch = (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>): void => {
      this.watchers.add(call);
      call.write(this.response(call.request.service));
      const forget = (): void => {
        this.watchers.delete(call);
      };
      call.on("cancelled", forget);
      call.on("close", forget);
    };
    return { check, watch };
  }
}

export { HealthCheckResponse };
