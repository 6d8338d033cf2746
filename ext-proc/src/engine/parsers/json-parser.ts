import { codePointToBytes, hex4 } from "../transformations/transform-context.js";
import type { TruncationReason } from "../types.js";
import type { ValueSink } from "./value-sink.js";

/**
 * Whether the key holds a character that would make it read as more than one step of a path
 * (`a.b`, `a[0]`): `.`, `[`, `]`, `'` or a backslash. A loop, not a regular expression: keys are
 * short, and this runs for every key of every body.
 */
function hasPathSyntax(key: string): boolean {
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c === 46 || c === 91 || c === 93 || c === 39 || c === 92) return true;
  }
  return false;
}

/**
 * `$.a` + `x.q` → `$.a['x.q']`: a key that holds path syntax is written in brackets, quotes and
 * backslashes escaped, so `{"x.q": …}` is not taken for `{"x": {"q": …}}` and is not named `q`.
 */
function quotedKeyPath(keyPrefix: string, key: string): string {
  return `${keyPrefix.slice(0, -1)}['${key.replace(/['\\]/g, "\\$&")}']`;
}

interface Frame {
  readonly path: string;
  /** `path` and a dot, made once per object: each key's path is then one concatenation, not two. */
  readonly keyPrefix: string;
  readonly array: boolean;
  index: number;
}

/** What a parse left uninspected. */
export type JsonParseOutcome = "complete" | Extract<TruncationReason, "json_depth" | "unparsable_body" | "argument_limit">;

const BACKSLASH = 0x5c;
/** What readString returns for a complete string with an invalid escape. */
const MALFORMED: unique symbol = Symbol("malformed JSON string");
/** What a backslash and this character stand for; any other escaped character stands for itself. */
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

/**
 * A tolerant, iterative JSON scanner over a byte string: every object key goes to `json_keys`,
 * every string to `json` under its path (`$.user.tags[1]`). Numbers, booleans and null are
 * validated but not emitted: a valid JSON number cannot carry an injection, and skipping them
 * keeps telemetry-style bodies (thousands of numbers) cheap. No recursion, so nesting
 * cannot overflow the stack; containers deeper than `maxDepth` are skipped and reported. On a
 * syntax error it stops and reports `unparsable_body`; what was found until then is kept.
 */
export function parseJson(text: string, maxDepth: number, sink: ValueSink): JsonParseOutcome {
  return new JsonScanner(maxDepth, sink).feed(text, 0, true) ?? "unparsable_body";
}

/**
 * `parseJson` that can stop where the text ends and go on when more arrives, so a streamed body
 * is parsed once, chunk by chunk, emitting each value as soon as it is complete. Between feeds it
 * keeps only the stack of open containers; the caller keeps the text from `resumeAt` on.
 */
export class JsonScanner {
  private readonly stack: Frame[] = [];
  /** Path of the value the key just read names (`$.a.key`): built once for `json_keys` and the value. */
  private pendingKeyPath: string | undefined;
  private outcome: JsonParseOutcome = "complete";
  /** Absolute offset of the first token not consumed yet: the next feed starts there. */
  resumeAt = 0;

  constructor(
    private readonly maxDepth: number,
    private readonly sink: ValueSink,
  ) {}

  /** Path the string starting at `resumeAt` would have as a value; undefined when it is a key. */
  pendingValuePath(): string | undefined {
    const top = this.stack[this.stack.length - 1];
    if (top && !top.array && this.pendingKeyPath === undefined) return undefined;
    return this.childPath();
  }

  private childPath(): string {
    const top = this.stack[this.stack.length - 1];
    if (!top) return "$";
    if (top.array) return `${top.path}[${top.index}]`;
    return this.pendingKeyPath ?? top.keyPrefix;
  }

  /** The text of the current feed and the position in it (fields, not closure variables: this loop is hot). */
  private text = "";
  private i = 0;
  /**
   * Where the next backslash of the text is (Infinity when none is left), found once and again only
   * when a string passes it: most strings hold none, and are then cut out without a second scan.
   */
  private nextBackslash = -1;

  /**
   * Parses `text`, the body from absolute offset `base` (= `resumeAt`) to what has arrived. When
   * the text ends inside a token and `final` is false, returns undefined and remembers where that
   * token starts; otherwise returns the outcome, after which the scanner is done.
   */
  feed(text: string, base: number, final: boolean): JsonParseOutcome | undefined {
    this.text = text;
    this.i = 0;
    this.nextBackslash = -1;
    try {
      const outcome = this.run(final);
      if (outcome === undefined) this.resumeAt = base + this.i;
      return outcome;
    } finally {
      this.text = "";
    }
  }

  /** The loop of `feed`; on undefined, `this.i` is where the unfinished token starts. */
  private run(final: boolean): JsonParseOutcome | undefined {
    const stack = this.stack;
    const text = this.text;
    const length = text.length;
    for (;;) {
      let i = skipWs(text, this.i);
      if (i >= length) {
        this.i = i;
        if (!final) return undefined;
        return stack.length > 0 ? "unparsable_body" : this.outcome;
      }
      const token = i;
      const c = text.charCodeAt(i);
      const top = stack[stack.length - 1];
      if (c === 44) { // ,
        this.i = i + 1;
        continue;
      }
      if (c === 125 || c === 93) { // } ]
        if (!top || top.array !== (c === 93)) return "unparsable_body";
        stack.pop();
        this.i = i + 1;
        this.afterValue();
        continue;
      }
      if (top && !top.array && this.pendingKeyPath === undefined) {
        if (c !== 34) return "unparsable_body";
        this.i = i;
        const key = this.readString();
        if (key === MALFORMED) return "unparsable_body";
        if (key === undefined) return this.more(token, final);
        i = skipWs(text, this.i);
        if (i >= length) return this.more(token, final);
        if (text.charCodeAt(i) !== 58) return "unparsable_body";
        this.i = i + 1;
        const path = hasPathSyntax(key) ? quotedKeyPath(top.keyPrefix, key) : top.keyPrefix + key;
        this.pendingKeyPath = path;
        if (!this.sink.add("json_keys", path, key)) return "argument_limit";
        continue;
      }
      if (c === 123 || c === 91) { // { [
        if (stack.length >= this.maxDepth) {
          const end = skipContainer(text, i);
          if (end < 0) return this.more(token, final);
          this.i = end;
          this.outcome = "json_depth";
          this.afterValue();
          continue;
        }
        const path = this.childPath();
        const array = c === 91;
        stack.push({ path, keyPrefix: array ? "" : `${path}.`, array, index: 0 });
        this.pendingKeyPath = undefined;
        this.i = i + 1;
        continue;
      }
      if (c === 34) {
        this.i = i;
        const value = this.readString();
        if (value === MALFORMED) return "unparsable_body";
        if (value === undefined) return this.more(token, final);
        if (!this.sink.add("json", this.childPath(), value)) return "argument_limit";
        this.afterValue();
        continue;
      }
      const literalEnd = scanLiteral(text, i);
      if (literalEnd === i) return "unparsable_body";
      if (literalEnd === length && !final) return this.more(token, final);
      if (!validLiteral(text, i, literalEnd)) return "unparsable_body";
      this.i = literalEnd;
      this.afterValue();
    }
  }

  /** The text ended inside the token at `token`: wait for more, unless none will come. */
  private more(token: number, final: boolean): JsonParseOutcome | undefined {
    if (final) return "unparsable_body";
    this.i = token;
    return undefined;
  }

  private afterValue(): void {
    const top = this.stack[this.stack.length - 1];
    if (top) top.index++;
    this.pendingKeyPath = undefined;
  }

  /**
   * Reads the string whose opening quote is at `this.i`; undefined when the text ends first (more
   * may complete it), MALFORMED when the whole string is there and one of its escapes is not valid
   * (no more text can mend it: waiting would leave the rest of a streamed body unparsed).
   */
  private readString(): string | undefined | typeof MALFORMED {
    const text = this.text;
    const from = this.i + 1;
    let quote = text.indexOf('"', from);
    // A quote after an odd run of backslashes is escaped. Each run is counted once: linear.
    while (quote >= 0 && isEscaped(text, quote, from)) quote = text.indexOf('"', quote + 1);
    if (quote < 0) return undefined;
    if (this.nextBackslash < from) {
      const next = text.indexOf("\\", from);
      this.nextBackslash = next < 0 ? Infinity : next;
    }
    const value = this.nextBackslash > quote ? text.slice(from, quote) : decodeEscapes(text.slice(from, quote), false);
    if (value === undefined) return MALFORMED;
    this.i = quote + 1;
    return value;
  }
}

/** Whether the character at `at` follows an odd number of backslashes (not counting before `from`). */
function isEscaped(text: string, at: number, from: number): boolean {
  let i = at - 1;
  while (i >= from && text.charCodeAt(i) === BACKSLASH) i--;
  return (at - 1 - i) % 2 === 1;
}

function isWs(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function skipWs(text: string, from: number): number {
  let i = from;
  while (i < text.length && isWs(text.charCodeAt(i))) i++;
  return i;
}

/** true, false, null or a JSON number, checked in place without cutting the literal out. */
function validLiteral(text: string, from: number, to: number): boolean {
  const length = to - from;
  if (length === 4 && (text.startsWith("true", from) || text.startsWith("null", from))) return true;
  if (length === 5 && text.startsWith("false", from)) return true;
  return length > 0 && numberEnd(text, from, to) === to;
}

/** Index past the digits from `from` (not beyond `to`). */
function digitsEnd(text: string, from: number, to: number): number {
  let i = from;
  while (i < to && isDigit(text.charCodeAt(i))) i++;
  return i;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/**
 * Where the JSON number starting at `from` ends (`-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`),
 * read no further than `to`; `from` itself when no number starts there.
 */
function numberEnd(text: string, from: number, to: number): number {
  let i = from;
  if (i < to && text.charCodeAt(i) === 45) i++; // -
  if (i >= to || !isDigit(text.charCodeAt(i))) return from;
  i = text.charCodeAt(i) === 48 ? i + 1 : digitsEnd(text, i, to);
  if (i < to && text.charCodeAt(i) === 46) { // .
    const fraction = digitsEnd(text, i + 1, to);
    if (fraction === i + 1) return i;
    i = fraction;
  }
  const e = text.charCodeAt(i);
  if (i < to && (e === 101 || e === 69)) { // e E
    let j = i + 1;
    const sign = text.charCodeAt(j);
    if (j < to && (sign === 43 || sign === 45)) j++;
    const exponent = digitsEnd(text, j, to);
    if (exponent > j) i = exponent;
  }
  return i;
}

/**
 * JSON escapes decoded in a piece of a string cut out of a streamed body, as a whole string's
 * are. The piece may start or end inside an escape; those few bytes stay as they are.
 */
export function decodeJsonFragment(text: string): string {
  return decodeEscapes(text, true);
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit < 0xdc00;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit < 0xe000;
}

/**
 * The one decoder of JSON string escapes, for whole strings and streamed fragments alike. The
 * result is a byte string: `\uXXXX` becomes the UTF-8 bytes of its code point, a surrogate pair
 * those of the one code point it encodes, and a lone surrogate those of U+FFFD, as a UTF-8
 * encoder writes it. Another escaped character stands for itself. A `\u` escape that is not four
 * hex digits (or a backslash that ends the text) makes the result undefined, or with `lenient`
 * stays as it is.
 */
function decodeEscapes(text: string, lenient: true): string;
function decodeEscapes(text: string, lenient: boolean): string | undefined;
function decodeEscapes(text: string, lenient: boolean): string | undefined {
  let slash = text.indexOf("\\");
  if (slash < 0) return text;
  // Pieces go into an array: a large string full of escapes must not become a rope of a
  // million nodes.
  const parts: string[] = [];
  let from = 0;
  while (slash >= 0) {
    parts.push(text.slice(from, slash));
    const escape = text[slash + 1];
    let decoded: string | undefined;
    let next = slash + 2;
    if (escape === "u") {
      let unit = hex4(text, slash + 2);
      next = slash + 6;
      if (isHighSurrogate(unit) && text.charCodeAt(next) === BACKSLASH && text[next + 1] === "u") {
        const low = hex4(text, next + 2);
        if (isLowSurrogate(low)) {
          unit = 0x10000 + ((unit - 0xd800) << 10) + (low - 0xdc00);
          next += 6;
        }
      }
      if (unit >= 0) decoded = codePointToBytes(isHighSurrogate(unit) || isLowSurrogate(unit) ? 0xfffd : unit);
    } else if (escape !== undefined) {
      decoded = ESCAPES[escape] ?? escape;
    }
    if (decoded === undefined) {
      if (!lenient) return undefined;
      decoded = "\\";
      next = slash + 1;
    }
    parts.push(decoded);
    from = next;
    slash = text.indexOf("\\", from);
  }
  parts.push(text.slice(from));
  return parts.join("");
}

function scanLiteral(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (isWs(c) || c === 44 || c === 125 || c === 93 || c === 58 || c === 34 || c === 123 || c === 91) break;
    i++;
  }
  return i;
}

/** Index just past the container that starts at `from`, honouring strings; -1 if it never closes. */
function skipContainer(text: string, from: number): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      i++;
      while (i < text.length && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 ? 2 : 1;
    } else if (c === 123 || c === 91) depth++;
    else if (c === 125 || c === 93) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}
