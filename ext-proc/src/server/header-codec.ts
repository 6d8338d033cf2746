/**
 * Conversions between Envoy's HeaderMap (values in `raw_value` bytes, never `value`) and the
 * engine's plain request/response heads, and the builders for header mutations Envoy accepts.
 */
import type { HeaderMap, HeaderValueOption } from "../../../protos/generated/envoy/config/core/v3/base.js";
import type { HeaderMutation } from "../../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import type { HeaderField, RequestHead, ResponseHead } from "../engine/types.js";

const EMPTY = Buffer.alloc(0);

interface SplitHeaders {
  readonly pseudo: Map<string, Buffer>;
  readonly fields: HeaderField[];
}

function split(map: HeaderMap | undefined): SplitHeaders {
  const pseudo = new Map<string, Buffer>();
  const fields: HeaderField[] = [];
  for (const header of map?.headers ?? []) {
    // Envoy sends lower-case keys already; lower-casing again costs little and protects the engine
    // from a client that is not Envoy.
    const name = header.key.toLowerCase();
    // Envoy fills raw_value only. A non-Envoy client may fill value: accept it rather than lose it.
    const value = header.rawValue.length > 0 || header.value === "" ? header.rawValue : Buffer.from(header.value, "utf8");
    if (name.startsWith(":")) {
      if (!pseudo.has(name)) pseudo.set(name, value);
    } else {
      fields.push({ name, value });
    }
  }
  return { pseudo, fields };
}

function text(value: Buffer | undefined): string {
  // latin1 keeps every byte as one character, so no input byte is lost or merged.
  return value === undefined ? "" : value.toString("latin1");
}

export function requestHead(map: HeaderMap | undefined): RequestHead {
  const { pseudo, fields } = split(map);
  return {
    method: text(pseudo.get(":method")),
    path: text(pseudo.get(":path")),
    authority: text(pseudo.get(":authority")),
    scheme: text(pseudo.get(":scheme")),
    headers: fields,
  };
}

export function responseHead(map: HeaderMap | undefined): ResponseHead {
  const { pseudo, fields } = split(map);
  const status = Number.parseInt(text(pseudo.get(":status")), 10);
  return { status: Number.isFinite(status) ? status : 0, headers: fields };
}

/** First value of a header, or undefined. */
export function headerValue(fields: readonly HeaderField[], name: string): Buffer | undefined {
  for (const field of fields) if (field.name === name) return field.value;
  return undefined;
}

/**
 * A header to set. Envoy reads `raw_value` only and treats an unset `append` as overwrite; both are
 * written explicitly so the meaning never depends on a default.
 */
export function setHeader(name: string, value: string | Buffer, append = false): HeaderValueOption {
  return {
    header: { key: name, value: "", rawValue: typeof value === "string" ? Buffer.from(value, "latin1") : value },
    append,
    appendAction: 0,
    keepEmptyValue: false,
  };
}

export function headerMutation(set: HeaderValueOption[], remove: string[] = []): HeaderMutation {
  return { setHeaders: set, removeHeaders: remove };
}

export { EMPTY as EMPTY_BODY };
