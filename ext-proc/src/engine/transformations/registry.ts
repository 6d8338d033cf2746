import { base64Decode } from "./base64-decode.js";
import { cmdLine } from "./cmd-line.js";
import { compressWhitespace } from "./compress-whitespace.js";
import { htmlEntityDecode } from "./html-entity-decode.js";
import { jsDecode } from "./js-decode.js";
import { lowercase } from "./lowercase.js";
import { normalizePath } from "./normalize-path.js";
import { removeComments } from "./remove-comments.js";
import { removeNulls } from "./remove-nulls.js";
import type { Transformation } from "./transform-context.js";
import { trim } from "./trim.js";
import { urlDecode } from "./url-decode.js";
import { urlDecodeUni } from "./url-decode-uni.js";

/** Every transformation a rule may name, by the name it uses. Unknown names fail at load. */
export const TRANSFORMATIONS: ReadonlyMap<string, Transformation> = new Map<string, Transformation>([
  ["url_decode", urlDecode],
  ["url_decode_uni", urlDecodeUni],
  ["html_entity_decode", htmlEntityDecode],
  ["js_decode", jsDecode],
  ["lowercase", lowercase],
  ["compress_whitespace", compressWhitespace],
  ["remove_nulls", removeNulls],
  ["normalize_path", normalizePath],
  ["remove_comments", removeComments],
  ["cmd_line", cmdLine],
  ["base64_decode", base64Decode],
  ["trim", trim],
]);
