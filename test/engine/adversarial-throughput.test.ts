/**
 * Every pack, alone, must inspect 1 MiB of adversarial input per target in under 50 ms (RE2 is
 * linear, but a DFA that keeps falling back or a transformation that goes quadratic is not).
 */
import { describe, expect, it } from "vitest";
import { compileEngine, DEFAULT_ENGINE_SETTINGS } from "../../ext-proc/src/engine/compile-engine.js";
import type { Engine, Transaction } from "../../ext-proc/src/engine/types.js";
import { listBuiltinPacks, loadRulePacks } from "../../ext-proc/src/policy/rule-packs.js";
import { MIB, nearMisses, randomBase64 } from "./adversarial-inputs.js";

const LIMIT_MS_PER_MIB = Number(process.env.MESHRASP_ADVERSARIAL_LIMIT_MS ?? 50);
const never = { exceeded: () => false };

/** Feeds a payload to a transaction; returns how many payload bytes it inspected. */
type Feed = (tx: Transaction, payload: string) => number;

const head = (headers: [string, string][], path = "/"): Parameters<Transaction["inspectRequestHeaders"]>[0] => ({
  method: "POST",
  path,
  authority: "a",
  scheme: "http",
  headers: headers.map(([name, value]) => ({ name, value: Buffer.from(value, "latin1") })),
});

const FEEDS: Record<string, Feed> = {
  "form field": (tx, p) => {
    tx.inspectRequestHeaders(head([["content-type", "application/x-www-form-urlencoded"]]), never);
    tx.inspectRequestBody(Buffer.from(`q=${p}`, "latin1"), { last: true, complete: true }, never);
    return p.length;
  },
  "JSON value": (tx, p) => {
    tx.inspectRequestHeaders(head([["content-type", "application/json"]]), never);
    tx.inspectRequestBody(Buffer.from(JSON.stringify({ q: p }), "latin1"), { last: true, complete: true }, never);
    return p.length;
  },
  "raw body": (tx, p) => {
    tx.inspectRequestHeaders(head([["content-type", "application/octet-stream"]]), never);
    tx.inspectRequestBody(Buffer.from(p, "latin1"), { last: true, complete: true }, never);
    return p.length;
  },
  "header value": (tx, p) => {
    tx.inspectRequestHeaders(head([["user-agent", p], ["cookie", `a=${p}`], ["referer", p]]), never);
    return 3 * p.length;
  },
  "query string": (tx, p) => {
    const query = encodeURIComponent(p.slice(0, MIB / 3));
    tx.inspectRequestHeaders(head([], `/?q=${query}`), never);
    return query.length;
  },
  "response body": (tx, p) => {
    tx.inspectResponseHeaders({ status: 200, headers: [] }, never);
    tx.inspectResponseBody(Buffer.from(p, "latin1"), { last: true, complete: true }, never);
    return p.length;
  },
};

function msPerMiB(engine: Engine, feed: Feed, payload: string): number {
  let best = Number.POSITIVE_INFINITY;
  // Best of five, in CPU time of this process: the first run warms the DFA caches, and CPU time
  // still stretches while other test files keep the sibling core busy (by up to 60 % on a
  // two-vCPU VM, where three runs left rce's slowest targets at 51-67 ms against 27-47 quiet).
  for (let run = 0; run < 5; run++) {
    const started = process.cpuUsage();
    const bytes = feed(engine.newTransaction(), payload);
    const used = process.cpuUsage(started);
    best = Math.min(best, (used.user + used.system) / 1000 / (bytes / MIB));
  }
  return best;
}

describe("adversarial throughput per pack", () => {
  for (const pack of listBuiltinPacks()) {
    it(`${pack}: every target under ${LIMIT_MS_PER_MIB} ms per MiB`, async () => {
      const rules = loadRulePacks([pack]);
      const engine = compileEngine({ ...DEFAULT_ENGINE_SETTINGS, paranoiaLevel: 4, rules });
      const payloads = { base64: randomBase64(MIB), "near misses": nearMisses(rules, MIB) };
      const slow: string[] = [];
      for (const [feedName, feed] of Object.entries(FEEDS)) {
        for (const [payloadName, payload] of Object.entries(payloads)) {
          let ms = msPerMiB(engine, feed, payload);
          // Over the limit: measured again, up to three times, two seconds apart. A slow spell of the
          // VM passes (one ran lfi's slowest target at 58.6 ms, against 35 quiet); a slow pattern or a
          // quadratic transformation is as slow every time.
          for (let retry = 0; retry < 3 && ms > LIMIT_MS_PER_MIB; retry++) {
            await new Promise((resolve) => setTimeout(resolve, 2000));
            ms = Math.min(ms, msPerMiB(engine, feed, payload));
          }
          if (ms > LIMIT_MS_PER_MIB) slow.push(`${feedName} / ${payloadName}: ${ms.toFixed(1)} ms per MiB`);
        }
      }
      expect(slow).toEqual([]);
      // Each retry waits two seconds: room for a few on a slow spell.
    }, 120_000);
  }
});
