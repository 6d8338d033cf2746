/** Content types as the policy reasons about them. */

/** `Application/JSON; charset=utf-8` → `application/json`. */
export function mediaType(contentType: string | undefined): string {
  const value = contentType ?? "";
  const semicolon = value.indexOf(";");
  return (semicolon === -1 ? value : value.slice(0, semicolon)).trim().toLowerCase();
}

export function isJsonType(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type === "application/json" || type.endsWith("+json");
}

const TEXT_TYPES = /^(?:text\/|application\/(?:[\w.+-]*\+)?(?:json|xml|javascript|ecmascript|x-www-form-urlencoded|graphql|yaml|x-yaml)$|image\/svg\+xml$)/;

/**
 * Media types whose bytes are text a rule or a person can read; a missing content type counts as
 * text, since nothing says it is not.
 */
export function isTextType(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type === "" || TEXT_TYPES.test(type);
}
