import type { Budget, Engine, HeaderField, RuleMatch, TruncationReason, Verdict } from "./types.js";

/**
 * One request as plain data, in the shared corpus record format: `uri` is the request target,
 * `body` is text, and with `encoding: "latin1"` its chars U+0080-U+00FF stand for raw bytes.
 */
export interface HttpRecord {
  readonly method: string;
  readonly uri: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly encoding?: string;
}

/** The request's final verdict with every match of both request phases. */
export interface RecordVerdict {
  readonly verdict: Verdict;
  readonly matches: readonly RuleMatch[];
  readonly truncated: readonly TruncationReason[];
}

/**
 * The value of a record's header, its name matched in any case as HTTP header names are
 * (`Host`, `host` and `HOST` are one header); undefined when the record has none.
 */
export function recordHeader(record: HttpRecord, name: string): string | undefined {
  const wanted = name.toLowerCase();
  return Object.entries(record.headers).find(([key]) => key.toLowerCase() === wanted)?.[1];
}

/** The body bytes a record stands for. */
export function recordBody(record: HttpRecord): Buffer {
  const body = record.body ?? "";
  return Buffer.from(body, record.encoding === "latin1" ? "latin1" : "utf8");
}

/** Runs a record through a fresh transaction: request headers, then the body in one buffered chunk. */
export function inspectRecord(engine: Engine, record: HttpRecord, budget: Budget, body = recordBody(record)): RecordVerdict {
  const headers: HeaderField[] = [];
  for (const [name, value] of Object.entries(record.headers)) {
    headers.push({ name: name.toLowerCase(), value: Buffer.from(value, "latin1") });
  }
  const transaction = engine.newTransaction();
  const authority = recordHeader(record, "host") ?? "";
  const head = transaction.inspectRequestHeaders(
    { method: record.method, path: record.uri, authority, scheme: "http", headers },
    budget,
  );
  if (body.length === 0) return { verdict: head, matches: head.matches, truncated: head.truncated };
  const verdict = transaction.inspectRequestBody(body, { last: true, complete: true }, budget);
  return { verdict, matches: [...head.matches, ...verdict.matches], truncated: verdict.truncated };
}
