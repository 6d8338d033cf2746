// The demo upstream behind Envoy: a dependency-free HTTP server that reports what it received, so
// that an allowed request is visible as such, and that serves a fake account record for the
// redaction demo. The card number is a well-known test number and the key is AWS's documented
// example key: neither is a secret.
import { createServer } from "node:http";

const port = Number(process.env.PORT ?? 8080);
const maxBodyBytes = 2 * 1024 * 1024;

/** The fake account record: shaped like data a redacting WAF must catch on the way out. */
export const account = {
  id: "acct-0001",
  owner: "Jane Example",
  card: { number: "4111 1111 1111 1111", expiry: "12/34" },
  cloud: { accessKeyId: "AKIAIOSFODNN7EXAMPLE", region: "eu-west-1" },
};

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

export const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://upstream");
  if (url.pathname === "/healthz") return send(res, 200, { status: "ok" });
  if (url.pathname === "/account") return send(res, 200, account);
  const chunks = [];
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    if (size <= maxBodyBytes) chunks.push(chunk);
  });
  req.on("end", () =>
    send(res, 200, {
      upstream: "demo",
      method: req.method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      bodyBytes: size,
      body: Buffer.concat(chunks).toString("utf8"),
    }),
  );
});

// Started as a program (docker compose), not when imported by tests.
if (import.meta.url === `file://${process.argv[1]}`) {
  server.listen(port, "0.0.0.0", () => console.log(`demo upstream listening on ${port}`));
  for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => server.close(() => process.exit(0)));
}
