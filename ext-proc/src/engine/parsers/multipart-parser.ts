import type { ValueSink } from "./value-sink.js";

export type MultipartOutcome = "complete" | "multipart_parts" | "unparsable_body" | "argument_limit";

/** The boundary parameter of a multipart content type, unquoted; undefined when absent or empty. */
export function multipartBoundary(contentType: string): string | undefined {
  const match = /;\s*boundary=(?:"([^"]{1,200})"|([^\s;,]{1,200}))/i.exec(contentType);
  const boundary = match?.[1] ?? match?.[2];
  return boundary === undefined || boundary === "" ? undefined : boundary;
}

const DISPOSITION_PARAMS = {
  name: /(?:^|;)\s*name=(?:"((?:[^"\\]|\\.)*)"|([^;]*))/i,
  filename: /(?:^|;)\s*filename\*?=(?:"((?:[^"\\]|\\.)*)"|([^;]*))/i,
};

function headerParam(header: string, param: keyof typeof DISPOSITION_PARAMS): string | undefined {
  const match = DISPOSITION_PARAMS[param].exec(header);
  if (!match) return undefined;
  return (match[1] ?? match[2] ?? "").trim();
}

/**
 * Splits a multipart/form-data body (byte string) into parts: every part's name, filename and
 * content type, and the value of every part that is not a file upload. At most `maxParts` parts;
 * a body without the boundary, or a part without a header block, is reported as unparsable.
 */
export function parseMultipart(body: string, boundary: string, maxParts: number, sink: ValueSink): MultipartOutcome {
  const delimiter = `--${boundary}`;
  let position = body.indexOf(delimiter);
  if (position < 0) return "unparsable_body";
  let parts = 0;
  for (;;) {
    let partStart = position + delimiter.length;
    if (body.startsWith("--", partStart)) return "complete";
    if (body.startsWith("\r\n", partStart)) partStart += 2;
    else if (body.startsWith("\n", partStart)) partStart += 1;
    const next = body.indexOf(delimiter, partStart);
    const partEnd = next < 0 ? body.length : next;
    if (parts >= maxParts) return "multipart_parts";
    parts++;
    let part = body.slice(partStart, partEnd);
    if (part.endsWith("\r\n")) part = part.slice(0, -2);
    else if (part.endsWith("\n")) part = part.slice(0, -1);
    const crlf = part.indexOf("\r\n\r\n");
    const lf = part.indexOf("\n\n");
    const split = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
    if (split < 0) return "unparsable_body";
    const headers = part.slice(0, split);
    const content = part.slice(split + (split === crlf ? 4 : 2));
    let name = "";
    let filename: string | undefined;
    let contentType: string | undefined;
    for (const line of headers.split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const field = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (field === "content-disposition") {
        name = headerParam(value, "name") ?? "";
        filename = headerParam(value, "filename");
      } else if (field === "content-type") contentType = value;
    }
    if (!sink.add("multipart_names", name, name)) return "argument_limit";
    if (filename !== undefined && !sink.add("multipart_filenames", name, filename)) return "argument_limit";
    if (contentType !== undefined && !sink.add("multipart_content_types", name, contentType)) return "argument_limit";
    if (filename === undefined && !sink.add("multipart", name, content)) return "argument_limit";
    if (next < 0) return "unparsable_body";
    position = next;
  }
}
