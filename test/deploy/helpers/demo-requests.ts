/**
 * The requests the end-to-end suite sends through Envoy (and envoy/README.md shows with curl),
 * with the verdict each must get. A fast test checks these verdicts against meshrasp's engine
 * with the demo policy, so an end-to-end failure points at the deployment, not at the payload.
 */
export interface DemoRequest {
  title: string;
  method: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** meshrasp's verdict under envoy/policy/policy.yaml. */
  action: "allow" | "deny";
}

export const demoRequests: readonly DemoRequest[] = [
  { title: "a plain GET", method: "GET", path: "/hello?name=world", action: "allow" },
  {
    title: "a JSON POST",
    method: "POST",
    path: "/orders",
    headers: { "content-type": "application/json" },
    body: '{"item":"book","quantity":2}',
    action: "allow",
  },
  { title: "SQL injection in the query", method: "GET", path: "/search?q=1'%20OR%20'1'='1", action: "deny" },
  { title: "path traversal in the query", method: "GET", path: "/files?path=../../../../etc/passwd", action: "deny" },
  {
    title: "XSS in a buffered request body",
    method: "POST",
    path: "/comments",
    headers: { "content-type": "text/plain" },
    body: "<script>alert(document.cookie)</script>",
    action: "deny",
  },
];
