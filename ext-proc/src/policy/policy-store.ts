/**
 * Holds the active policy and replaces it when its file changes: compiled first, swapped in one
 * assignment, so a stream sees either the old policy or the new one, never a mix (streams keep the
 * policy they started with). A policy that does not load never replaces a good one.
 */
import { createHash } from "node:crypto";
import { watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import type { ActivePolicy } from "./active-policy.js";
import { compilePolicy } from "./compile-policy.js";
import { parsePolicy, readPolicyBytes, type ParsedPolicy } from "./policy-document.js";
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
 * Constraints of the running server on a policy document (e.g. its gRPC message size limit), as
 * issues in that document; none when it fits. Runs before compiling, so a misfit costs no compile.
 */
export type PolicyCheck = (parsed: ParsedPolicy) => readonly PolicyIssue[];

/** A policy file read once: the bytes compiled are the bytes hashed, whatever happens to the file meanwhile. */
type PolicyFileRead = { readonly fileHash: string } & ({ readonly bytes: Buffer } | { readonly error: PolicyError });

function readPolicy(path: string): PolicyFileRead {
  try {
    const bytes = readPolicyBytes(path);
    return { bytes, fileHash: sha256(bytes) };
  } catch (error) {
    // No bytes to hash: the failure is hashed instead, so polling the same failure again reports
    // nothing new, and a different one (missing, then unreadable) is reported.
    const failure = asPolicyError(path, error);
    return { error: failure, fileHash: sha256(Buffer.from(`unreadable\u0000${failure.message}`)) };
  }
}

/** A compiled policy and how long parsing, checking and compiling it took, in milliseconds. */
interface CompiledPolicy {
  readonly policy: ActivePolicy;
  readonly compileMs: number;
}

/** Parses, checks and compiles the bytes of a policy file; every failure is a PolicyError naming the file. */
function compilePolicyBytes(path: string, bytes: Buffer, check: PolicyCheck | undefined): CompiledPolicy {
  const started = performance.now();
  const parsed = parsePolicy(bytes.toString("utf8"), path);
  const issues = check?.(parsed) ?? [];
  if (issues.length > 0) throw new PolicyError(path, issues);
  const policy = compilePolicy(parsed);
  return { policy, compileMs: performance.now() - started };
}

function asPolicyError(path: string, error: unknown): PolicyError {
  if (error instanceof PolicyError) return error;
  return new PolicyError(path, [{ path: "", line: 0, column: 0, message: error instanceof Error ? error.message : String(error) }]);
}

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export class PolicyStore {
  private active: CompiledPolicy;
  private activeFileHash: string;
  private lastRejected: RejectedPolicy | undefined;
  private watcher: FSWatcher | undefined;
  private poller: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;

  /** Loads the file once; at start-up an invalid policy is fatal, so this throws. */
  constructor(
    readonly path: string,
    private readonly listener: ReloadListener,
    private readonly check?: PolicyCheck,
  ) {
    const bytes = readPolicyBytes(path);
    this.active = compilePolicyBytes(path, bytes, check);
    this.activeFileHash = sha256(bytes);
  }

  current(): ActivePolicy {
    return this.active.policy;
  }

  /** How long the active policy took to parse, check and compile, in milliseconds (file reading not included). */
  compileMs(): number {
    return this.active.compileMs;
  }

  rejected(): RejectedPolicy | undefined {
    return this.lastRejected;
  }

  /**
   * Re-reads the file and swaps the policy if its bytes changed. Returns what happened, for tests
   * and for the admin endpoint.
   */
  reload(): "unchanged" | "loaded" | "rejected" {
    const file = readPolicy(this.path);
    if (file.fileHash === this.activeFileHash) {
      // Back to the active content (e.g. a bad edit reverted): nothing is rejected any more.
      this.lastRejected = undefined;
      return "unchanged";
    }
    if (file.fileHash === this.lastRejected?.fileHash) return "unchanged";
    if ("error" in file) return this.reject(file.error, file.fileHash);
    let next: CompiledPolicy;
    try {
      next = compilePolicyBytes(this.path, file.bytes, this.check);
    } catch (error) {
      return this.reject(asPolicyError(this.path, error), file.fileHash);
    }
    this.active = next;
    this.activeFileHash = file.fileHash;
    this.lastRejected = undefined;
    this.listener.loaded(next.policy, next.compileMs);
    return "loaded";
  }

  private reject(error: PolicyError, fileHash: string): "rejected" {
    this.lastRejected = { fileHash, at: new Date().toISOString(), issues: error.issues };
    this.listener.rejected(error, fileHash);
    return "rejected";
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
