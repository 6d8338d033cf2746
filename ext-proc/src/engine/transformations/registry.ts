import { base64Decode } from "./base64-decode.js";
import { CMD_LINE_CHANGES, cmdLine } from "./cmd-line.js";
import { COMPRESS_WHITESPACE_CHANGES, compressWhitespace } from "./compress-whitespace.js";
import { HTML_ENTITY_DECODE_CHANGES, htmlEntityDecode } from "./html-entity-decode.js";
import { JS_DECODE_CHANGES, jsDecode } from "./js-decode.js";
import { LOWERCASE_CHANGES, lowercase } from "./lowercase.js";
import { NORMALIZE_PATH_CHANGES, normalizePath } from "./normalize-path.js";
import { REMOVE_COMMENTS_CHANGES, removeComments } from "./remove-comments.js";
import { REMOVE_NULLS_CHANGES, removeNulls } from "./remove-nulls.js";
import type { Transformation } from "./transform-context.js";
import { TRIM_CHANGES, trim } from "./trim.js";
import { URL_DECODE_CHANGES, urlDecode } from "./url-decode.js";
import { URL_DECODE_UNI_CHANGES, urlDecodeUni } from "./url-decode-uni.js";

/** A transformation and, when it has one, the pattern outside of which it never changes a value. */
export interface RegisteredTransformation {
  readonly apply: Transformation;
  /**
   * A value this does not match is returned unchanged (checked by property tests). Absent when
   * the transformation may change any value (base64_decode).
   */
  readonly changesOnly: RegExp | undefined;
}

/** Every transformation a rule may name, by the name it uses. Unknown names fail at load. */
export const TRANSFORMATIONS: ReadonlyMap<string, RegisteredTransformation> = new Map<string, RegisteredTransformation>([
  ["url_decode", { apply: urlDecode, changesOnly: URL_DECODE_CHANGES }],
  ["url_decode_uni", { apply: urlDecodeUni, changesOnly: URL_DECODE_UNI_CHANGES }],
  ["html_entity_decode", { apply: htmlEntityDecode, changesOnly: HTML_ENTITY_DECODE_CHANGES }],
  ["js_decode", { apply: jsDecode, changesOnly: JS_DECODE_CHANGES }],
  ["lowercase", { apply: lowercase, changesOnly: LOWERCASE_CHANGES }],
  ["compress_whitespace", { apply: compressWhitespace, changesOnly: COMPRESS_WHITESPACE_CHANGES }],
  ["remove_nulls", { apply: removeNulls, changesOnly: REMOVE_NULLS_CHANGES }],
  ["normalize_path", { apply: normalizePath, changesOnly: NORMALIZE_PATH_CHANGES }],
  ["remove_comments", { apply: removeComments, changesOnly: REMOVE_COMMENTS_CHANGES }],
  ["cmd_line", { apply: cmdLine, changesOnly: CMD_LINE_CHANGES }],
  ["base64_decode", { apply: base64Decode, changesOnly: undefined }],
  ["trim", { apply: trim, changesOnly: TRIM_CHANGES }],
]);
