import { describe, expect, it } from "vitest";
import type { HeaderField } from "../engine/types.js";
import type { ScopedPolicy } from "../policy/active-policy.js";
import { requestHeaderChanges, responseHeaderChanges } from "./header-changes.js";
import { setHeader } from "./header-codec.js";

function scope(removeHeaders: string[], tagUpstream = false): ScopedPolicy {
  return {
    requestChanges: { removeHeaders, tagUpstream },
    responseChanges: { setHeaders: { "x-content-type-options": "nosniff" }, removeHeaders: ["server"], onLeak: "log" },
  } as Partial<ScopedPolicy> as ScopedPolicy;
}

const header = (name: string): HeaderField => ({ name, value: Buffer.from("v") });
const noTags = () => {
  throw new Error("tags asked for although the scope does not tag");
};

describe("request header changes", () => {
  it("share one mutation per scope between requests that need nothing of their own", () => {
    const policy = scope(["x-user-id", "x-user-id", "x-role"]);
    const first = requestHeaderChanges(policy, [header("accept")], noTags);
    expect(first?.removeHeaders).toEqual(["x-user-id", "x-role"]);
    expect(requestHeaderChanges(policy, [header("x-user-id")], noTags)).toBe(first);
    expect(requestHeaderChanges(scope([]), [header("accept")], noTags)).toBeUndefined();
    // Shared by every request of the scope: frozen, so a change throws instead of reaching them all.
    expect(Object.isFrozen(first) && Object.isFrozen(first?.removeHeaders) && Object.isFrozen(first?.setHeaders)).toBe(true);
    expect(Object.isFrozen(responseHeaderChanges(scope([]))?.removeHeaders)).toBe(true);
  });

  it("also remove the x-meshrasp-* headers a client sent, once each, without touching the shared list", () => {
    const policy = scope(["x-role"]);
    const shared = requestHeaderChanges(policy, [], noTags);
    const spoofed = requestHeaderChanges(policy, [header("x-meshrasp-score"), header("x-meshrasp-score"), header("x-role")], noTags);
    expect(spoofed?.removeHeaders).toEqual(["x-role", "x-meshrasp-score"]);
    expect(shared?.removeHeaders).toEqual(["x-role"]);
    expect(requestHeaderChanges(policy, [], noTags)).toBe(shared);
  });

  it("tag the decision when the scope says so", () => {
    const tags = [setHeader("x-meshrasp-decision", "d-1")];
    const mutation = requestHeaderChanges(scope([], true), [header("x-meshrasp-decision")], () => tags);
    expect(mutation).toEqual({ setHeaders: tags, removeHeaders: ["x-meshrasp-decision"] });
  });
});

describe("response header changes", () => {
  it("share one mutation per scope, and add removals in a copy", () => {
    const policy = scope([]);
    const shared = responseHeaderChanges(policy);
    expect(shared?.removeHeaders).toEqual(["server"]);
    expect(responseHeaderChanges(policy)).toBe(shared);
    expect(responseHeaderChanges(policy, ["content-encoding"])?.removeHeaders).toEqual(["server", "content-encoding"]);
    expect(shared?.removeHeaders).toEqual(["server"]);
  });
});
