/**
 * Behaviour profiles of the built-in packs: for each request, the rules that must fire and those
 * that must not. Requests are written here from attack classes, not copied from any corpus.
 */
import { describe, expect, it } from "vitest";
import { compileEngine } from "../../ext-proc/src/engine/compile-engine.js";
import { inspectRecord, type HttpRecord } from "../../ext-proc/src/engine/http-record.js";
import { defaultEngineSettings } from "../../ext-proc/src/policy/default-engine-settings.js";

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

const PROFILES: readonly Profile[] = [
  { name: "union select in a query arg", request: getQ("id=1%20UNION%2F**%2FSELECT%20user,pass%20FROM%20users"), fire: ["sqli-union-select"], blocked: true },
  { name: "quote tautology in a form", request: form("user=admin%27%20or%20%271%27%3D%271"), fire: ["sqli-quote-boolean"], blocked: true },
  { name: "time-based sqli in JSON", request: json({ id: "1 AND SLEEP(5)" }), fire: ["sqli-time-functions"], blocked: true },
  { name: "script tag, double encoded", request: getQ("q=%253Cscript%253Ealert(1)%253C%252Fscript%253E"), fire: ["xss-script-tag"], blocked: true },
  { name: "event handler in JSON", request: json({ bio: '<img src=x onerror="fetch(1)">' }), fire: ["xss-event-handler"], blocked: true },
  { name: "entity-encoded javascript URL", request: form("u=java%26%23115%3Bcript%3Aalert(1)"), fire: ["xss-script-url"], blocked: true },
  { name: "command chain in a query", request: getQ("host=127.0.0.1%3Bcat%20%2Fetc%2Fpasswd"), fire: ["rce-unix-command-chain"], blocked: true },
  { name: "obfuscated command", request: getQ("h=x%7Cc%27a%27t%24%7BIFS%7D%2Fetc%2Fshadow"), fire: ["rce-unix-command-chain"], blocked: true },
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
  // benign look-alikes
  { name: "a sentence with 'select' and 'from'", request: getQ("q=please%20select%20one%20item%20from%20the%20list"), fire: [], notFire: ["sqli-select-from"], blocked: false },
  { name: "an apostrophe in a name", request: form("name=O%27Brien%20and%20sons"), fire: [], notFire: ["sqli-quote-boolean"], blocked: false },
  { name: "a price range", request: getQ("q=between%201%20and%202%20kg"), fire: [], notFire: ["sqli-numeric-tautology"], blocked: false },
  { name: "a relative asset path", request: getQ("img=images/cat.png"), fire: [], notFire: ["lfi-traversal"], blocked: false },
  { name: "a cooking sentence with 'cat'", request: getQ("q=feed%20the%20cat%20and%20the%20dog"), fire: [], notFire: ["rce-unix-command-chain"], blocked: false },
  { name: "an ordinary JSON document", request: json({ user: { name: "Ana", tags: ["a", "b"], age: 3 } }), fire: [], blocked: false },
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
