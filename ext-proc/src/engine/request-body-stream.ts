import { CHUNK_OVERLAP_BYTES, type BodyAccumulator } from "./body-accumulator.js";
import type { EngineLimits } from "./engine-settings.js";
import { decodeJsonFragment, JsonScanner, type JsonParseOutcome } from "./parsers/json-parser.js";
import { parseUrlEncoded } from "./parsers/url-encoded-parser.js";
import type { ValueSink } from "./parsers/value-sink.js";
import { contentTypeKind, looksBinary, parseBufferedBody, sniffKind, SNIFF_BYTES, type BodyKind } from "./request-body.js";
import type { TargetSource } from "./target-sources.js";
import { percentDecodeOnce } from "./transformations/url-decode.js";
import type { TruncationReason } from "./types.js";

/**
 * A sink that also takes fragments: the part of a value that a chunk edge cut, scanned by the
 * same rules but not counted as an argument (the whole value is, once it is complete).
 */
export interface BodySink extends ValueSink {
  addFragment(source: TargetSource, name: string, value: string): boolean;
}

/**
 * Longest form field name searched for when a chunk edge cut a value: past it the value is
 * scanned without a name. Real field names are far shorter; the bound keeps the search per chunk
 * constant however long the value grows.
 */
const MAX_FIELD_NAME_BYTES = 1024;
/** Bytes that end a JSON literal (number, true, false, null). */
const LITERAL_END = /[\s,}\]:"{[]/;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Parses a request body as its chunks arrive, so that an attack split across streamed chunks is
 * denied at the chunk where it completes rather than when the body ends. Forms and JSON are
 * parsed incrementally, each value emitted once as soon as it is complete (the same values, in
 * the same order, as a parse of the whole body); the value still open at the end of a chunk is
 * scanned as a fragment of at most the chunk plus CHUNK_OVERLAP_BYTES. Bodies of other kinds are
 * scanned as one value per chunk window, and whole at the end. Multipart and XML wait for the
 * whole body. Besides the body itself (kept up to maxBodyBytes), the state is a few offsets and
 * the JSON scanner's stack of open containers.
 */
export class RequestBodyStream {
  private kind: BodyKind | undefined;
  /** A body of no parsable kind is read as text by the argument rules unless it starts as binary data. */
  private textual: boolean | undefined;
  private finished = false;
  /** Form: offset where the name=value pair in progress starts. */
  private pairStart = 0;
  private json: JsonScanner | undefined;
  /** Why the JSON scanner stopped before the end, when it did. */
  private jsonOutcome: JsonParseOutcome | undefined;
  /** JSON string lexing of the token at `lexToken`: checked up to `lexedTo`, escape open there, closing quote seen. */
  private lexToken = -1;
  private lexedTo = 0;
  private escaped = false;
  private closed = false;

  constructor(
    private readonly contentType: string,
    private readonly limits: EngineLimits,
  ) {}

  /**
   * Inspects what bytes [from, body.received) add. With `final`, no more will come: what is left
   * is parsed, once. Returns what was left uninspected, except the argument limit and the time
   * budget: a parser stopped by the sink cannot tell which, and the sink reports it itself.
   */
  accept(body: BodyAccumulator, from: number, final: boolean, sink: BodySink): TruncationReason[] {
    if (this.finished) return [];
    const end = body.received;
    const sniffed = final || end >= SNIFF_BYTES;
    if (this.kind === undefined) {
      const known = contentTypeKind(this.contentType);
      if (known !== undefined) this.kind = known;
      else if (sniffed) this.kind = sniffKind(body.slice(0, Math.min(end, SNIFF_BYTES)));
      else return [];
    }
    if (this.kind === "unknown" && this.textual === undefined) {
      if (!sniffed) return [];
      this.textual = !looksBinary(body.slice(0, Math.min(end, SNIFF_BYTES)));
    }
    if (final) {
      this.finished = true;
      return this.finish(body, sink);
    }
    if (end <= from) return [];
    switch (this.kind) {
      case "form":
        this.formChunk(body, from, sink);
        return [];
      case "json":
        this.jsonChunk(body, from, sink);
        return [];
      case "unknown":
        if (this.textual) sink.addFragment("body_args", "", body.slice(Math.max(0, from - CHUNK_OVERLAP_BYTES), end));
        return [];
      default:
        return [];
    }
  }

  private finish(body: BodyAccumulator, sink: BodySink): TruncationReason[] {
    const end = body.received;
    switch (this.kind) {
      case "form":
        parseUrlEncoded(body.slice(this.pairStart, end), sink, "body_arg_names", "body_args");
        return [];
      case "json": {
        const scanner = this.scanner(sink);
        const outcome = this.jsonOutcome ?? scanner.feed(body.slice(scanner.resumeAt, end), scanner.resumeAt, true) ?? "unparsable_body";
        if (outcome === "unparsable_body") sink.add("json", "$", body.text());
        return outcome === "complete" || outcome === "argument_limit" ? [] : [outcome];
      }
      case "unknown": {
        // No parser applies, but a back end may still read the body as text: the argument rules
        // see it as one value (bounded by maxBodyBytes, like every body).
        const text = body.text();
        if (this.textual && text.length > 0) sink.add("body_args", "", text);
        return [];
      }
      case "multipart":
      case "xml":
        return parseBufferedBody(this.kind, body.text(), this.contentType, this.limits, sink).filter((r) => r !== "argument_limit");
      case undefined:
        return [];
    }
  }

  private formChunk(body: BodyAccumulator, from: number, sink: BodySink): void {
    const end = body.received;
    const lastAmp = body.slice(from, end).lastIndexOf("&");
    if (lastAmp >= 0) {
      const ampAt = from + lastAmp;
      const complete = parseUrlEncoded(body.slice(this.pairStart, ampAt), sink, "body_arg_names", "body_args");
      this.pairStart = ampAt + 1;
      // Refused: past the argument limit nothing more is parsed, as in a parse of the whole body.
      if (!complete) {
        this.finished = true;
        return;
      }
    }
    const windowStart = Math.max(this.pairStart, from - CHUNK_OVERLAP_BYTES);
    if (windowStart >= end) return;
    const piece = body.slice(windowStart, end);
    if (windowStart === this.pairStart) {
      const eq = piece.indexOf("=");
      const name = percentDecodeOnce(eq < 0 ? piece : piece.slice(0, eq));
      sink.addFragment("body_arg_names", name, name);
      if (eq >= 0) sink.addFragment("body_args", name, percentDecodeOnce(piece.slice(eq + 1)));
      return;
    }
    // The window starts inside the pair: its name lies before, unless the name is absurdly long.
    const head = body.slice(this.pairStart, Math.min(this.pairStart + MAX_FIELD_NAME_BYTES, windowStart));
    const eq = head.indexOf("=");
    sink.addFragment("body_args", eq < 0 ? "" : percentDecodeOnce(head.slice(0, eq)), percentDecodeOnce(piece));
  }

  private scanner(sink: BodySink): JsonScanner {
    this.json ??= new JsonScanner(this.limits.maxJsonDepth, sink);
    return this.json;
  }

  private jsonChunk(body: BodyAccumulator, from: number, sink: BodySink): void {
    if (this.jsonOutcome !== undefined) return;
    const scanner = this.scanner(sink);
    const end = body.received;
    if (this.mayResume(body, from, scanner.resumeAt)) {
      const at = scanner.resumeAt;
      this.jsonOutcome = scanner.feed(body.slice(at, end), at, false);
      if (this.jsonOutcome !== undefined) return;
    }
    const at = scanner.resumeAt;
    const path = scanner.pendingValuePath();
    if (at >= end || body.byteAt(at) !== QUOTE || path === undefined) return;
    const fragment = body.slice(Math.max(at + 1, from - CHUNK_OVERLAP_BYTES), end);
    if (fragment.length > 0) sink.addFragment("json", path, decodeJsonFragment(fragment));
  }

  /**
   * Whether the new bytes can complete the token the scanner stopped in. Feeding re-reads that
   * token from its start, so a long string or literal is re-read only when it may have ended:
   * the work per chunk stays proportional to the chunk, not to the value.
   */
  private mayResume(body: BodyAccumulator, from: number, at: number): boolean {
    if (at >= from) return true;
    const end = body.received;
    const first = body.byteAt(at);
    if (first === 0x7b || first === 0x5b) return false; // a skipped container: only the end closes it for sure
    if (first !== QUOTE) return LITERAL_END.test(body.slice(from, end));
    if (this.lexToken !== at) {
      this.lexToken = at;
      this.lexedTo = at + 1;
      this.escaped = false;
      this.closed = false;
    }
    if (this.closed) return /\S/.test(body.slice(from, end));
    const text = body.slice(this.lexedTo, end);
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (this.escaped) this.escaped = false;
      else if (c === BACKSLASH) this.escaped = true;
      else if (c === QUOTE) {
        this.closed = true;
        break;
      }
    }
    this.lexedTo = end;
    return this.closed;
  }
}
