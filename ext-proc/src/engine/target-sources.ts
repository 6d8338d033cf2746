import type { Phase } from "./types.js";

/**
 * Every place a value can come from. A rule's targets are selectors over these sources (or over
 * the aliases below); each source becomes available in exactly one phase.
 */
export const TARGET_SOURCES = {
  method: "request_headers",
  uri: "request_headers",
  path: "request_headers",
  query: "request_headers",
  query_args: "request_headers",
  query_arg_names: "request_headers",
  headers: "request_headers",
  header_names: "request_headers",
  /** All request header names, lower-cased, sorted and comma-joined: rules about combinations. */
  header_name_list: "request_headers",
  cookies: "request_headers",
  cookie_names: "request_headers",
  body: "request_body",
  body_args: "request_body",
  body_arg_names: "request_body",
  json: "request_body",
  json_keys: "request_body",
  multipart: "request_body",
  multipart_names: "request_body",
  multipart_filenames: "request_body",
  multipart_content_types: "request_body",
  xml: "request_body",
  xml_text: "request_body",
  status: "response_headers",
  response_headers: "response_headers",
  response_header_names: "response_headers",
  response_header_name_list: "response_headers",
  response_body: "response_body",
} as const satisfies Record<string, Phase>;

export type TargetSource = keyof typeof TARGET_SOURCES;

/** Selectors that stand for several sources, as CRS's ARGS and ARGS_NAMES do. */
export const TARGET_ALIASES: Readonly<Record<string, readonly TargetSource[]>> = {
  args: ["query_args", "body_args", "json", "multipart", "xml_text"],
  args_names: ["query_arg_names", "body_arg_names", "json_keys", "multipart_names"],
  request_cookies: ["cookies"],
  // How multipart file names are labelled in matches: a label must work as an exclusion target.
  files: ["multipart_filenames"],
};

/** How a source appears in a match's `target` (`args:q`, `json:$.a`, `body`). */
export const TARGET_LABELS: Readonly<Record<TargetSource, string>> = {
  method: "method",
  uri: "uri",
  path: "path",
  query: "query",
  query_args: "args",
  query_arg_names: "args_names",
  headers: "headers",
  header_names: "header_names",
  header_name_list: "header_name_list",
  cookies: "cookies",
  cookie_names: "cookie_names",
  body: "body",
  body_args: "args",
  body_arg_names: "args_names",
  json: "json",
  json_keys: "json_keys",
  multipart: "multipart",
  multipart_names: "multipart_names",
  multipart_filenames: "files",
  multipart_content_types: "multipart_content_types",
  xml: "xml",
  xml_text: "xml_text",
  status: "status",
  response_headers: "response_headers",
  response_header_names: "response_header_names",
  response_header_name_list: "response_header_name_list",
  response_body: "response_body",
};

export const PHASE_ORDER: Readonly<Record<Phase, number>> = {
  request_headers: 0,
  request_body: 1,
  response_headers: 2,
  response_body: 3,
};

export function isRequestPhase(phase: Phase): boolean {
  return phase === "request_headers" || phase === "request_body";
}

export function isTargetSource(name: string): name is TargetSource {
  return Object.hasOwn(TARGET_SOURCES, name);
}

/** A parsed selector: which sources, optionally one name within them, and whether it excludes. */
export interface TargetSelector {
  readonly sources: readonly TargetSource[];
  /**
   * The name normalised as values are looked up by, or undefined for the whole source: a lookup
   * name (`args:Q[]` → `q`) or a JSON path (`json:$.User.tags[0]` → `$.user.tags`).
   */
  readonly name: string | undefined;
  readonly exclude: boolean;
}

/** Parses `args`, `headers:user-agent`, `!headers:cookie`; returns a reason string when invalid. */
export function parseTargetSelector(text: string): TargetSelector | string {
  const exclude = text.startsWith("!");
  const body = exclude ? text.slice(1) : text;
  const colon = body.indexOf(":");
  const collection = colon < 0 ? body : body.slice(0, colon);
  const name = colon < 0 ? undefined : selectorName(body.slice(colon + 1));
  if (name === "") return `target "${text}" has an empty name after ':'`;
  if (exclude && name === undefined) return `exclusion "${text}" must name one value, e.g. !headers:cookie`;
  const alias = TARGET_ALIASES[collection];
  if (alias) return { sources: alias, name, exclude };
  if (isTargetSource(collection)) return { sources: [collection], name, exclude };
  return `unknown target "${collection}"`;
}

/** The name a value is looked up by: lower-case, array suffixes (`a[]`, `a[x]`) dropped. */
function lookupName(name: string): string {
  const bracket = name.indexOf("[");
  const base = bracket > 0 ? name.slice(0, bracket) : name;
  return base.toLowerCase();
}

/** Sources whose values are named by their JSON path (`$.user.tags[2]`). */
function isJsonSource(source: TargetSource): boolean {
  return source === "json" || source === "json_keys";
}

/** `$`, `$.a`, `$[0]`: a name that is a JSON path rather than a key (`$where` is a key). */
function isJsonPath(name: string): boolean {
  return name === "$" || name.startsWith("$.") || name.startsWith("$[");
}

/**
 * `$.user.tags[2]` is looked up as `tags`, so `args:tags` selects JSON leaves and keys too. A key
 * the parser had to quote (`$.a['x.q']`, see json-parser.ts) is looked up as itself, less an
 * array suffix as a query name is (`x.q`; `tags[]` as `tags`), never as the part after a dot.
 */
function jsonLeafName(path: string): string {
  return jsonPathLeaf(jsonPathName(path));
}

/** The lookup name of the last step of a path as `jsonPathName` gives it (no indexes): `$.user.tags` → `tags`. */
export function jsonPathLeaf(pathName: string): string {
  if (!pathName.endsWith("']")) return lookupName(pathName.slice(pathName.lastIndexOf(".") + 1));
  const close = pathName.length - 2;
  return lookupName(unescapeKey(pathName.slice(quotedKeyStart(pathName, close), close)));
}

/** Where the quoted key whose closing quote is at `close` starts: after the first quote before it that no backslash escapes. */
function quotedKeyStart(path: string, close: number): number {
  for (let i = close - 1; i >= 0; i--) {
    if (path.charCodeAt(i) !== 0x27) continue;
    let backslashes = 0;
    while (path.charCodeAt(i - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return i + 1;
  }
  return 0;
}

/** A quoted key as it arrived: `it\'s` → `it's`. */
function unescapeKey(quoted: string): string {
  return quoted.includes("\\") ? quoted.replace(/\\(.)/g, "$1") : quoted;
}

/**
 * `$.Items[3].tags[0]` → `$.items.tags`: a JSON path as selectors name it, lower-case and without
 * array indexes, so `json:$.items.tags` selects the tags of every item, as `args:q` selects `q[]`.
 */
export function jsonPathName(path: string): string {
  let open = path.indexOf("[");
  if (open < 0) return path.toLowerCase();
  let kept = "";
  let from = 0;
  while (open >= 0) {
    if (path.charCodeAt(open + 1) === 0x27) {
      // A quoted key (`['x[0]']`): what it holds is a name, not indexes; skip to its closing quote.
      let i = open + 2;
      while (i < path.length && path.charCodeAt(i) !== 0x27) i += path.charCodeAt(i) === 0x5c ? 2 : 1;
      open = path.indexOf("[", i + 1);
      continue;
    }
    let i = open + 1;
    while (i < path.length && path.charCodeAt(i) >= 0x30 && path.charCodeAt(i) <= 0x39) i++;
    if (i > open + 1 && path.charCodeAt(i) === 0x5d) {
      kept += path.slice(from, open);
      from = i + 1;
    }
    open = path.indexOf("[", i);
  }
  return (kept + path.slice(from)).toLowerCase();
}

/** A name written in a selector, normalised as the names of values are. */
function selectorName(written: string): string {
  return isJsonPath(written) ? jsonPathName(written) : lookupName(written);
}

/** The lookup name of a value of `source` named `name` as it arrived (a JSON path for JSON sources). */
export function valueName(source: TargetSource, name: string): string {
  return isJsonSource(source) ? jsonLeafName(name) : lookupName(name);
}

/** Whether a selector's name is a JSON path within `source`: its values are then also looked up by `jsonPathName`. */
export function isJsonPathKey(source: TargetSource, key: string): boolean {
  return isJsonSource(source) && isJsonPath(key);
}

/**
 * Whether selectors, read as a rule's target list, select a value of `source` with this lookup
 * name and JSON path: some selector takes it in and no excluding selector names it.
 */
function selectsNamed(
  selectors: readonly TargetSelector[],
  source: TargetSource,
  name: string | undefined,
  path: string | undefined,
): boolean {
  let included = false;
  for (const selector of selectors) {
    if (!selector.sources.includes(source)) continue;
    const named = selector.name !== undefined && (selector.name === name || selector.name === path);
    if (selector.exclude) {
      if (named) return false;
    } else if (selector.name === undefined || named) included = true;
  }
  return included;
}

/**
 * Whether selectors select the values of `source` looked up by `key`, a name some selector gives
 * (a JSON path key stands for the values at that path, whose lookup name is its last key), or
 * undefined for the values no selector names.
 */
export function selectsKey(selectors: readonly TargetSelector[], source: TargetSource, key: string | undefined): boolean {
  if (key !== undefined && isJsonPathKey(source, key)) return selectsNamed(selectors, source, jsonLeafName(key), key);
  return selectsNamed(selectors, source, key, undefined);
}

/** Whether a rule with these selectors would scan a value of `source` named `name` as it arrived. */
export function selectsValue(selectors: readonly TargetSelector[], source: TargetSource, name: string): boolean {
  if (!isJsonSource(source)) return selectsNamed(selectors, source, lookupName(name), undefined);
  const path = jsonPathName(name);
  return selectsNamed(selectors, source, jsonPathLeaf(path), path);
}
