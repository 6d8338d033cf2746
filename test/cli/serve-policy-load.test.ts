/**
 * What `meshrasp serve` checks and logs when it loads the active and the shadow policy: the body
 * limits of the spec and of every scope against the gRPC message limit, in the right file, and
 * each policy's own compile time.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { PolicyError } from "../../ext-proc/src/policy/policy-error.js";
import { defaultPolicyPath } from "../../ext-proc/src/policy/policy-document.js";
import { policyFile, startInProcess, type InProcess } from "../support/in-process.js";

const MiB = 1024 * 1024;
/** Room for a 2 MiB body (the default limit) and its framing, not for a 4 MiB one. */
const MAX_MESSAGE_BYTES = 3 * MiB;

/** A small policy whose `uploads` scope sets its own body limit (line 11 holds it). */
const withScopeLimit = (name: string, scopeBodyBytes: number): string =>
  [
    "apiVersion: meshrasp.io/v1alpha1",
    "kind: RaspPolicy",
    "metadata:",
    `  name: ${name}`,
    "spec:",
    "  rulePacks: [sqli]",
    "  scopes:",
    "    - name: uploads",
    "      match: { pathPrefixes: [/upload] }",
    "      limits:",
    `        maxBodyBytes: ${scopeBodyBytes}`,
    "",
  ].join("\n");

const running: InProcess[] = [];
afterEach(async () => {
  for (const server of running.splice(0)) await server.stop();
});

async function start(...args: Parameters<typeof startInProcess>): Promise<InProcess> {
  const server = await startInProcess(...args);
  running.push(server);
  return server;
}

async function startFailure(...args: Parameters<typeof startInProcess>): Promise<PolicyError> {
  const error: unknown = await start(...args).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof PolicyError)) throw new Error(`expected a PolicyError, got ${String(error)}`);
  return error;
}

describe("serve: policy body limits against the gRPC message limit", () => {
  it("refuses an active policy whose scope raises the body limit beyond the message limit, at the scope's line", async () => {
    const active = policyFile(withScopeLimit("shop", 4 * MiB));
    const error = await startFailure({ policyFile: active, maxMessageBytes: MAX_MESSAGE_BYTES });
    expect(error.source).toBe(active);
    expect(error.lines()).toEqual([
      `${active}:11:9: spec.scopes[0].limits.maxBodyBytes: ${4 * MiB} does not fit the gRPC message limit ` +
        `(--max-message-bytes ${MAX_MESSAGE_BYTES}, minus 65536 bytes of framing)`,
    ]);
  });

  it("names the shadow policy's file when the shadow policy is the one that does not fit", async () => {
    const active = policyFile(withScopeLimit("shop", MiB));
    const shadow = policyFile(withScopeLimit("shop-next", 4 * MiB), "shadow.yaml");
    const error = await startFailure({ policyFile: active, shadowPolicyFile: shadow, maxMessageBytes: MAX_MESSAGE_BYTES });
    expect(error.source).toBe(shadow);
    expect(error.issues.map((i) => i.path)).toEqual(["spec.scopes[0].limits.maxBodyBytes"]);
  });

  it("rejects a shadow reload whose scope does not fit, naming the shadow file, and keeps the running shadow", async () => {
    const active = policyFile(withScopeLimit("shop", MiB));
    const shadow = policyFile(withScopeLimit("shop-next", MiB), "shadow.yaml");
    const { app, logs } = await start({ policyFile: active, shadowPolicyFile: shadow, maxMessageBytes: MAX_MESSAGE_BYTES });
    writeFileSync(shadow, withScopeLimit("shop-next", 4 * MiB));
    expect(app.reloadShadowPolicy()).toBe("rejected");
    const rejected = logs.find((l) => l.event === "policy_rejected");
    expect(rejected).toMatchObject({ policy: "shadow", file: shadow });
    expect(rejected?.errors).toEqual([expect.stringMatching(new RegExp(`^${shadow}:11:9: spec\\.scopes\\[0\\]\\.limits\\.maxBodyBytes: `))]);
  });

  it("reports the spec's limit once, not again for every scope that inherits it", async () => {
    const active = policyFile(withScopeLimit("shop", MiB).replace("  rulePacks: [sqli]", `  rulePacks: [sqli]\n  limits: { maxBodyBytes: ${4 * MiB} }`));
    const error = await startFailure({ policyFile: active, maxMessageBytes: MAX_MESSAGE_BYTES });
    expect(error.issues.map((i) => i.path)).toEqual(["spec.limits.maxBodyBytes"]);
  });

  it("starts when every body limit fits", async () => {
    const active = policyFile(withScopeLimit("shop", 2 * MiB));
    const { app } = await start({ policyFile: active, maxMessageBytes: MAX_MESSAGE_BYTES });
    expect(app.policy().name).toBe("shop");
  });
});

describe("serve: compile time logged for each policy", () => {
  it("gives the shadow policy its own compile time, not the active policy's added to it", async () => {
    // The built-in default policy compiles every rule pack; the shadow compiles one small pack.
    const shadow = policyFile(withScopeLimit("shop-next", MiB), "shadow.yaml");
    const { logs } = await start({ policyFile: policyFile(readFileSync(defaultPolicyPath(), "utf8")), shadowPolicyFile: shadow });
    const compileMs = (role: string): number => {
      const line = logs.find((l) => l.event === "policy_loaded" && l.policy === role);
      if (typeof line?.compile_ms !== "number") throw new Error(`no policy_loaded line for the ${role} policy`);
      return line.compile_ms;
    };
    expect(compileMs("active")).toBeGreaterThan(0);
    expect(compileMs("shadow")).toBeLessThan(compileMs("active"));
  });
});
