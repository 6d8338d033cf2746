/** Content types as the policy reasons about them; what counts as text is the engine's one list. */
import { isTextualMediaType, mediaType } from "../engine/media-type.js";

export function isJsonType(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type === "application/json" || type.endsWith("+json");
}

/**
 * Media types whose bytes are text a rule or a person can read (`isTextualMediaType`); a missing
 * content type counts as text, since nothing says it is not.
 */
export function isTextType(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type === "" || isTextualMediaType(type);
}
