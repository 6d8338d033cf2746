/** Paths and file readers shared by the deployment tests. */
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments } from "yaml";

/** The repository root. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** An absolute path for a repository-relative one. */
export function repoPath(...parts: string[]): string {
  return join(repoRoot, ...parts);
}

/** Parses one YAML document; duplicate keys and other YAML errors throw. */
export function parseYaml(text: string): unknown {
  return parse(text, { uniqueKeys: true });
}

/** Reads and parses a one-document YAML file. */
export function readYaml(path: string): unknown {
  return parseYaml(readFileSync(path, "utf8"));
}

/** Parses every YAML document in a file, skipping empty ones; any document error throws. */
export function readYamlDocuments(path: string): unknown[] {
  return parseAllDocuments(readFileSync(path, "utf8"), { uniqueKeys: true }).flatMap((doc) => {
    if (doc.errors.length > 0) throw new Error(`${path}: ${doc.errors.map((e) => e.message).join("; ")}`);
    const value: unknown = doc.toJS();
    return value === null || value === undefined ? [] : [value];
  });
}

/** A plain object (not null, not an array), or undefined. */
export function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The elements of `value` that are plain objects; an empty list when `value` is not an array. */
export function records(value: unknown): Record<string, unknown>[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item: unknown) => {
    const record = asRecord(item);
    return record === undefined ? [] : [record];
  });
}

/** Follows a path of keys and indexes through parsed YAML/JSON; undefined when any step is missing. */
export function dig(value: unknown, ...path: (string | number)[]): unknown {
  let current = value;
  for (const step of path) {
    if (typeof step === "number") {
      if (!Array.isArray(current)) return undefined;
      current = current[step];
    } else {
      const record = asRecord(current);
      if (record === undefined) return undefined;
      current = record[step];
    }
  }
  return current;
}
