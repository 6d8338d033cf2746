/** Content types as the engine and the policy both read them: one list of what is text. */

/** `Application/JSON; charset=utf-8` → `application/json`. */
export function mediaType(contentType: string | undefined): string {
  const value = contentType ?? "";
  const semicolon = value.indexOf(";");
  return (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
}

/**
 * Media types whose bytes are text a back end may parse and a rule or a person can read: any
 * `text/*`, JSON, XML and YAML (with their `+json`/`+xml`/`+yaml` suffixes, as in
 * `application/vnd.oai.openapi+yaml`), forms, scripts, GraphQL, CSP reports, newline-delimited
 * JSON and AWS's JSON protocols.
 */
const TEXTUAL =
  /^(?:text\/.+|[a-z]+\/(?:[\w.-]+\+)?(?:json|xml|yaml)|application\/(?:x-www-form-urlencoded|(?:x-)?javascript|ecmascript|jsonp|graphql|(?:x-)?yaml|csp-report|x-ndjson|x-amz-json-[\d.]+))$/;

/** Whether a media type (as `mediaType` gives it; not empty) names text rather than binary data. */
export function isTextualMediaType(type: string): boolean {
  return TEXTUAL.test(type);
}
