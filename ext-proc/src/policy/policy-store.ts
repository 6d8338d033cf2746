/**
 * Holds the active policy and replaces it when its file changes: compiled first, swapped in one
 * assignment, so a stream sees either the old policy or the new one, never a mix (streams keep the
 * policy they started with). A policy that does not load never replaces a good one.
 */
import { createHash } from "node:crypto";
import { readFileSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { ActivePolicy } from "./active-policy.js";
import { compilePolicy } from "./compile-policy.js";
import { parsePolicy, readPolicyBytes } from "./policy-document.js";
import { PolicyError, type PolicyIssue } from "./policy-error.js";

export interface RejectedPolicy {
  /** sha256 of the rejected file's bytes (it has no canonical form: it did not parse). */
  readonly fileHash: string;
  readonly at: string;
  readonly issues: readonly PolicyIssue[];
}

export interface ReloadListener {
  loaded(policy: ActivePolicy, compileMs: number): void;
  rejected(error: PolicyError, fileHash: string): void;
}

/**
 * Reads and compiles a policy file; every failure becomes a PolicyError naming the file.
 * `check` adds constraints of the running server (e.g. its gRPC message size limit).
 */
function loadPolicyFile(path: string, check?: (policy: ActivePolicy) => void): { policy: ActivePolicy; fileHash: string } {
  const bytes = readPolicyBytes(path);
  const policy = compilePolicy(parsePolicy(bytes.toString("utf8"), path));
  check?.(policy);
  return { policy, fileHash: sha256(bytes) };
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export class PolicyStore {
  private active: ActivePolicy;
  private activeFileHash: string;
  private lastRejected: RejectedPolicy | undefined;
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;

  /** Loads the file once; at start-up an invalid policy is fatal, so this throws. */
  constructor(
    readonly path: string,
    private readonly listener: ReloadListener,
    private readonly check?: (policy: ActivePolicy) => void,
  ) {
    const { policy, fileHash } = loadPolicyFile(path, check);
    this.active = policy;
    this.activeFileHash = fileHash;
  }

  current(): ActivePolicy {
    return this.active;
  }

  rejected(): RejectedPolicy | undefined {
    return this.lastRejected;
  }

  /**
   * Re-reads the file and swaps the policy if its bytes changed. Returns what happened, for tests
   * and for the admin endpoint.
   */
  reload(): "unchanged" | "loaded" | "rejected" {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.path);
    } catch {
      bytes = Buffer.alloc(0);
    }
    const fileHash = sha256(bytes);
    if (fileHash === this.activeFileHash) {
      // Back to the active content (e.g. a bad edit reverted): nothing is rejected any more.
      this.lastRejected = undefined;
      return "unchanged";
    }
    if (fileHash === this.lastRejected?.fileHash) return "unchanged";
    const started = performance.now();
    try {
      const next = loadPolicyFile(this.path, this.check);
      this.active = next.policy;
      this.activeFileHash = next.fileHash;
      this.lastRejected = undefined;
      this.listener.loaded(next.policy, performance.now() - started);
      return "loaded";
    } catch (error) {
      const policyError =
        error instanceof PolicyError
          ? error
          : new PolicyError(this.path, [{ path: "", line: 0, column: 0, message: error instanceof Error ? error.message : String(error) }]);
      this.lastRejected = { fileHash, at: new Date().toISOString(), issues: policyError.issues };
      this.listener.rejected(policyError, fileHash);
      return "rejected";
    }
  }

  /**
   * Watches the file's directory (a Kubernetes ConfigMap volume swaps its `..data` symlink there;
   * an editor renames a new file over the old one) and also polls, because directory events are
   * not delivered on every file system and a watched directory can itself be replaced.
   */
  watch(pollMs: number): void {
    const schedule = (): void => {
      if (this.debounce) clearTimeout(this.debounce);
      this.debounce = setTimeout(() => this.reload(), 100);
      this.debounce.unref();
    };
    try {
      const dir = dirname(this.path);
      const name = basename(this.path);
      this.watcher = watch(dir, { persistent: false }, (_event, file) => {
        if (file === null || file === name || file.startsWith("..")) schedule();
      });
      this.watcher.on("error", () => this.watcher?.close());
    } catch {
      // The directory may not be watchable; polling still works.
    }
    this.poller = setInterval(() => this.reload(), pollMs);
    this.poller.unref();
  }

  close(): void {
    this.watcher?.close();
    if (this.poller) clearInterval(this.poller);
    if (this.debounce) clearTimeout(this.debounce);
  }
}
