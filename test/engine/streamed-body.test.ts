/**
 * Attacks split across streamed request chunks are denied at the chunk where they complete, for
 * form, JSON and plain-text bodies, at every split position around the attack; the same bodies
 * without the attack are allowed at every chunk. A chunk completes the attack when what arrived
 * so far, inspected as a whole body, is denied: "1' UNION SELECT" is already an injection before
 * "password FROM users--" arrives.
 */
import { describe, expect, it } from "vitest";
import { compileEngine } from "../../ext-proc/src/engine/compile-engine.js";
import type { Budget, Verdict } from "../../ext-proc/src/engine/types.js";
import { defaultEngineSettings } from "../support/default-engine-settings.js";

const never: Budget = { exceeded: () => false };
const engine = compileEngine(defaultEngineSettings());

/** Sends the body as chunks cut at `cuts`; returns each chunk's verdict. */
function stream(contentType: string, body: string, cuts: readonly number[]): Verdict[] {
  const tx = engine.newTransaction();
  const headers = [{ name: "content-type", value: Buffer.from(contentType) }];
  tx.inspectRequestHeaders({ method: "POST", path: "/submit", authority: "shop.test", scheme: "https", headers }, never);
  const edges = [0, ...cuts, body.length];
  const verdicts: Verdict[] = [];
  for (let k = 0; k + 1 < edges.length; k++) {
    const chunk = Buffer.from(body.slice(edges[k], edges[k + 1]), "latin1");
    verdicts.push(tx.inspectRequestBody(chunk, { last: k + 2 === edges.length, complete: true }, never));
  }
  return verdicts;
}

const firstDeny = (verdicts: readonly Verdict[]): number => verdicts.findIndex((v) => v.action === "deny");

interface Case {
  readonly name: string;
  readonly contentType: string;
  readonly build: (payload: string) => string;
  readonly attack: string;
  readonly benign: string;
  /** A body cut inside the attack, made whole as if the attack's value ended there. */
  readonly cutShort: (prefix: string) => string;
}

const CASES: readonly Case[] = [
  {
    name: "form",
    contentType: "application/x-www-form-urlencoded",
    build: (p) => `comment=hello&q=${encodeURIComponent(p)}&x=${"z".repeat(3000)}`,
    attack: "1' UNION SELECT password FROM users--",
    benign: "1 union station, selected passwords for users",
    cutShort: (prefix) => prefix,
  },
  {
    name: "JSON",
    contentType: "application/json",
    build: (p) => `{"a":"${"x".repeat(3000)}","cmd":${JSON.stringify(p)},"b":"${"y".repeat(3000)}"}`,
    attack: "; cat /etc/passwd",
    benign: "the cat sat on the mat",
    cutShort: (prefix) => `${prefix}"}`,
  },
  {
    name: "plain text",
    contentType: "text/plain",
    build: (p) => `${"x".repeat(3000)} ${p} ${"y".repeat(3000)}`,
    attack: "<script>alert(document.cookie)</script>",
    benign: "scripts alert the document's cookie policy",
    cutShort: (prefix) => prefix,
  },
];

describe("streamed request bodies", () => {
  for (const c of CASES) {
    const body = c.build(c.attack);
    const encoded = c.build("MARKER").split("MARKER");
    const start = encoded[0]?.length ?? 0;
    const end = body.length - (encoded[1]?.length ?? 0);
    // The third chunk is far past the attack: only a scan of the first two chunks can deny before it.
    const third = end + 1000;

    it(`${c.name}: denied exactly at the chunk where the attack completes`, () => {
      const wrong: string[] = [];
      for (let cut = start - 8; cut <= end + 8; cut++) {
        const completing =
          cut >= end ? 0 : cut <= start ? 1 : firstDeny(stream(c.contentType, c.cutShort(body.slice(0, cut)), [])) === 0 ? 0 : 1;
        const denied = firstDeny(stream(c.contentType, body, [cut, third]));
        if (denied !== completing) wrong.push(`cut at ${cut}: denied at chunk ${denied}, completes at ${completing}`);
      }
      expect(wrong).toEqual([]);
    });

    it(`${c.name}: the benign twin is allowed at every chunk, whatever the split`, () => {
      const benign = c.build(c.benign);
      const benignEnd = benign.length - (encoded[1]?.length ?? 0);
      const denied: number[] = [];
      for (let cut = start - 8; cut <= benignEnd + 8; cut++) {
        if (stream(c.contentType, benign, [cut, benignEnd + 1000]).some((v) => v.action === "deny")) denied.push(cut);
      }
      expect(denied).toEqual([]);
    });
  }

  it("an unsplit attack is still found by the parse at the end", () => {
    for (const c of CASES) expect(firstDeny(stream(c.contentType, c.build(c.attack), []))).toBe(0);
  });
});
