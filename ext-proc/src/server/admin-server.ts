/** Admin HTTP: liveness, readiness, Prometheus metrics and the active policy's identity. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Registry } from "prom-client";

export interface AdminSources {
  readonly registry: Registry;
  /** Ready: a policy is compiled and the server is not draining. */
  readonly ready: () => boolean;
  /** JSON-serialisable description of the active (and any rejected) policy. */
  readonly policy: () => unknown;
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { "content-type": contentType, "cache-control": "no-store" });
  res.end(body);
}

async function route(sources: AdminSources, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    send(res, 405, "text/plain", "method not allowed\n");
    return;
  }
  const path = (req.url ?? "/").split("?", 1)[0];
  switch (path) {
    case "/healthz":
      send(res, 200, "text/plain", "ok\n");
      return;
    case "/readyz":
      if (sources.ready()) send(res, 200, "text/plain", "ready\n");
      else send(res, 503, "text/plain", "not ready\n");
      return;
    case "/metrics":
      send(res, 200, sources.registry.contentType, await sources.registry.metrics());
      return;
    case "/policy":
      send(res, 200, "application/json", `${JSON.stringify(sources.policy(), null, 2)}\n`);
      return;
    default:
      send(res, 404, "text/plain", "not found\n");
  }
}

export function createAdminServer(sources: AdminSources): Server {
  return createServer((req, res) => {
    route(sources, req, res).catch((error: unknown) => {
      send(res, 500, "text/plain", `${error instanceof Error ? error.message : String(error)}\n`);
    });
  });
}
