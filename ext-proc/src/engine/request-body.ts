import type { EngineLimits } from "./engine-settings.js";
import { isTextualMediaType, mediaType } from "./media-type.js";
import { multipartBoundary, parseMultipart } from "./parsers/multipart-parser.js";
import type { ValueSink } from "./parsers/value-sink.js";
import { extractXmlText } from "./parsers/xml-text.js";
import type { TruncationReason } from "./types.js";

// Printable name=value pairs from the start; binary or prose bodies are not sniffed as forms.
const FORM_LIKE = /^[\w.%+*\-[\]$]{1,256}=[\x20-\x7e]*$/;

/** Bytes of the body start that sniffing looks at: the kind is known once this many arrived. */
export const SNIFF_BYTES = 1024;

/**
 * Whether the start of a body (at most SNIFF_BYTES of it) is binary data rather than text: it
 * holds a control byte that text does not (tab, newlines, vertical tab and form feed aside), as
 * compressed data, images and protobuf do. Such bodies are not handed to argument rules as text.
 */
export function looksBinary(head: string): boolean {
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if (c === 0x7f || (c < 0x20 && (c < 0x09 || c > 0x0d))) return true;
  }
  return false;
}

export type BodyKind = "form" | "json" | "multipart" | "xml" | "unknown";

/**
 * The kind the content type alone decides, or undefined when the body must be sniffed: a textual
 * type (`isTextualMediaType`) that names no parser, or none. A binary type (images, fonts,
 * protobuf, octet streams) is not sniffed for parameters.
 */
export function contentTypeKind(contentType: string): BodyKind | undefined {
  const type = contentType.toLowerCase();
  if (type.includes("multipart/")) return "multipart";
  if (type.includes("json")) return "json";
  if (type.includes("x-www-form-urlencoded")) return "form";
  if (type.includes("xml")) return "xml";
  const media = mediaType(type);
  if (media !== "" && !isTextualMediaType(media)) return "unknown";
  return undefined;
}

/**
 * The body processor for a body whose content type does not tell (`contentTypeKind` is
 * undefined), by its first non-blank byte: attackers drop or fake content types and many back
 * ends parse what they get anyway. `head` is the body's first SNIFF_BYTES bytes (all of a
 * shorter body).
 */
export function sniffKind(head: string): BodyKind {
  const first = /\S/.exec(head.slice(0, 64))?.[0];
  if (first === "{" || first === "[") return "json";
  if (first === "<") return "xml";
  if (FORM_LIKE.test(head)) return "form";
  return "unknown";
}

/**
 * Parses a whole (possibly truncated) multipart or XML body, the kinds that are not parsed while
 * streaming, into the sink's sources and returns what was left uninspected. A multipart body
 * that does not parse is still inspected: its raw text goes to `multipart`, so rules on `args`
 * see it.
 */
export function parseBufferedBody(
  kind: "multipart" | "xml",
  body: string,
  contentType: string,
  limits: EngineLimits,
  sink: ValueSink,
): TruncationReason[] {
  if (body.length === 0) return [];
  if (kind === "xml") {
    sink.add("xml", "", body);
    sink.add("xml_text", "", extractXmlText(body));
    return [];
  }
  const boundary = multipartBoundary(contentType);
  const outcome = boundary === undefined ? "unparsable_body" : parseMultipart(body, boundary, limits.maxMultipartParts, sink);
  if (outcome === "unparsable_body") sink.add("multipart", "", body);
  return outcome === "complete" ? [] : [outcome];
}
