/**
 * Every limit of the redaction module, in one place. README.md explains each one.
 */

/**
 * The longest match any detector may produce, in bytes. A streamed body is held back by at most
 * this much (plus CONTEXT_BYTES): a private-key PEM block is the longest built-in secret (a
 * 4096-bit RSA key is about 3.3 KB, an 8192-bit one about 6.5 KB).
 */
export const MAX_MATCH_BYTES = 8 * 1024;

/**
 * Bytes kept before the scan position of a stream: RE2's `^` and `\b` look one byte behind where
 * a search starts, and the mask looks up to 5 bytes back to recognise a `\uXXXX` escape.
 */
export const CONTEXT_BYTES = 8;

/** Containers nested deeper than this are not searched for field names (their values still are masked). */
export const MAX_JSON_DEPTH = 64;

/** The most trailing characters a policy may leave unmasked (the policy schema's maximum). */
export const MAX_KEEP_LAST = 8;

/** Brotli quality when recompressing: 11 (the default) costs ~50x more CPU for ~10% smaller output. */
export const BROTLI_QUALITY = 5;
