import type { EngineLimits } from "./engine-settings.js";
import { parseJson } from "./parsers/json-parser.js";
import { multipartBoundary, parseMultipart } from "./parsers/multipart-parser.js";
import { parseUrlEncoded } from "./parsers/url-encoded-parser.js";
import type { ValueSink } from "./parsers/value-sink.js";
import { extractXmlText } from "./parsers/xml-text.js";
import type { TruncationReason } from "./types.js";

// Content types whose bodies are text an application may parse as parameters; anything else
// (images, fonts, protobuf, octet streams) only gets raw-body rules.
const TEXTUAL_TYPE = /^(?:text\/|application\/(?:x-www-form|javascript|ecmascript|graphql|csp-report|x-amz)|[^;]*(?:json|xml|form))/;
// Printable name=value pairs from the start; binary or prose bodies are not sniffed as forms.
const FORM_LIKE = /^[\w.%+*\-[\]$]{1,256}=[\x20-\x7e]*$/;

export type BodyKind = "form" | "json" | "multipart" | "xml" | "unknown";

/**
 * Which body processor to use: by content type first; without a telling content type, by the
 * body's first non-blank byte, because attackers drop or fake content types and many back ends
 * parse what they get anyway.
 */
export function bodyKind(contentType: string, body: string): BodyKind {
  const type = contentType.toLowerCase();
  if (type.includes("multipart/")) return "multipart";
  if (type.includes("json")) return "json";
  if (type.includes("x-www-form-urlencoded")) return "form";
  if (type.includes("xml")) return "xml";
  if (type !== "" && !TEXTUAL_TYPE.test(type)) return "unknown";
  const first = /\S/.exec(body.slice(0, 64))?.[0];
  if (first === "{" || first === "[") return "json";
  if (first === "<") return "xml";
  if (FORM_LIKE.test(body.slice(0, 1024))) return "form";
  return "unknown";
}

/**
 * Parses a whole (possibly truncated) request body into the sink's sources and returns what was
 * left uninspected. A body that does not parse is still inspected: its raw text goes to the
 * processor's value source, so rules on `args` see it.
 */
export function parseRequestBody(
  body: string,
  contentType: string,
  limits: EngineLimits,
  sink: ValueSink,
): TruncationReason[] {
  if (body.length === 0) return [];
  switch (bodyKind(contentType, body)) {
    case "form":
      return parseUrlEncoded(body, sink, "body_arg_names", "body_args") ? [] : ["argument_limit"];
    case "json": {
      const outcome = parseJson(body, limits.maxJsonDepth, sink);
      if (outcome === "unparsable_body") sink.add("json", "$", body);
      return outcome === "complete" ? [] : [outcome];
    }
    case "multipart": {
      const boundary = multipartBoundary(contentType);
      const outcome = boundary === undefined ? "unparsable_body" : parseMultipart(body, boundary, limits.maxMultipartParts, sink);
      if (outcome === "unparsable_body") sink.add("multipart", "", body);
      return outcome === "complete" ? [] : [outcome];
    }
    case "xml":
      sink.add("xml", "", body);
      sink.add("xml_text", "", extractXmlText(body));
      return [];
    case "unknown":
      return [];
  }
}
