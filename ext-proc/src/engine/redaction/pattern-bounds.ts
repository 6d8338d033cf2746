/**
 * The shortest and longest number of bytes an RE2 pattern can match. The stream redactor holds
 * back the longest match a detector can produce, so every detector pattern must be bounded: `*`,
 * `+` and `{n,}` make `max` Infinity and such a pattern is refused at compile time. The bounds
 * are safe over-estimates: a character that may be non-ASCII counts 4 bytes (UTF-8), and under
 * `(?i)` a letter counts 4 bytes too (`k` also matches U+212A KELVIN SIGN). The pattern must
 * already have been accepted by RE2; this reads it, it does not validate it.
 */
export interface ByteBounds {
  readonly min: number;
  readonly max: number;
}

const NONE: ByteBounds = { min: 0, max: 0 };
const ANY_CHAR: ByteBounds = { min: 1, max: 4 };
const ASCII_CHAR: ByteBounds = { min: 1, max: 1 };
const REPEAT = /^\{(\d+)(,(\d*))?\}/;
const HEX_ESCAPE = /^x(?:\{([0-9A-Fa-f]+)\}|([0-9A-Fa-f]{2}))/;
const OCTAL_ESCAPE = /^[0-7]{1,3}/;

function utf8Length(codePoint: number): number {
  if (codePoint < 0x80) return 1;
  if (codePoint < 0x800) return 2;
  return codePoint < 0x10000 ? 3 : 4;
}

function isLetter(char: string): boolean {
  return /\p{L}/u.test(char);
}

export function patternByteBounds(source: string): ByteBounds {
  let i = 0;

  const literal = (char: string, caseless: boolean): ByteBounds => {
    if (caseless && isLetter(char)) return ANY_CHAR;
    const n = utf8Length(char.codePointAt(0) ?? 0);
    return { min: n, max: n };
  };

  const charAt = (at: number): string => String.fromCodePoint(source.codePointAt(at) ?? 0);

  /** An escape, read after its `\`. */
  const escape = (caseless: boolean): ByteBounds => {
    const c = source[i] ?? "";
    const rest = source.slice(i);
    const hex = HEX_ESCAPE.exec(rest);
    if (hex) {
      i += hex[0].length;
      return literal(String.fromCodePoint(parseInt(hex[1] ?? hex[2] ?? "0", 16)), caseless);
    }
    const octal = OCTAL_ESCAPE.exec(rest);
    if (octal) {
      i += octal[0].length;
      return literal(String.fromCodePoint(parseInt(octal[0], 8)), caseless);
    }
    if (c === "p" || c === "P") {
      i += source[i + 1] === "{" ? source.indexOf("}", i) - i + 1 : 2;
      return ANY_CHAR;
    }
    if (c === "Q") {
      const end = source.indexOf("\\E", i);
      const text = source.slice(i + 1, end < 0 ? source.length : end);
      i = end < 0 ? source.length : end + 2;
      let total = NONE;
      for (const char of text) total = concat(total, literal(char, caseless));
      return total;
    }
    const char = charAt(i);
    i += char.length;
    if ("bBAz".includes(char)) return NONE;
    if ("dsw".includes(char)) return caseless ? ANY_CHAR : ASCII_CHAR;
    if ("DSW".includes(char)) return ANY_CHAR;
    if (char === "C") return ASCII_CHAR;
    return literal(char, caseless);
  };

  const characterClass = (caseless: boolean): ByteBounds => {
    let max = 1;
    if (source[i] === "^") {
      max = 4;
      i++;
    }
    let first = true;
    while (i < source.length && (source[i] !== "]" || first)) {
      first = false;
      if (source.startsWith("[:", i)) {
        const end = source.indexOf(":]", i);
        if (source[i + 2] === "^") max = 4;
        i = end + 2;
        continue;
      }
      let item: ByteBounds;
      if (source[i] === "\\") {
        i++;
        item = escape(caseless);
      } else {
        const char = charAt(i);
        i += char.length;
        item = literal(char, caseless);
      }
      if (source[i] === "-" && source[i + 1] !== "]" && i + 1 < source.length) {
        i++;
        if (source[i] === "\\") {
          i++;
          item = { min: 1, max: Math.max(item.max, escape(caseless).max) };
        } else {
          const char = charAt(i);
          i += char.length;
          item = { min: 1, max: Math.max(item.max, literal(char, caseless).max) };
        }
      }
      max = Math.max(max, item.max);
    }
    i++;
    return { min: 1, max };
  };

  const atom = (flags: { caseless: boolean }): ByteBounds => {
    const c = source[i] ?? "";
    if (c === "(") {
      i++;
      let inner = { caseless: flags.caseless };
      if (source[i] === "?") {
        const named = /^\?P?<[^>]*>/.exec(source.slice(i));
        if (named) i += named[0].length;
        else {
          const modifiers = /^\?([imsU-]*)([:)])/.exec(source.slice(i)) ?? ["?:", "", ":"];
          i += modifiers[0].length;
          const on = modifiers[1]?.split("-")[0] ?? "";
          const off = modifiers[1]?.split("-")[1] ?? "";
          const caseless = on.includes("i") ? true : off.includes("i") ? false : flags.caseless;
          // `(?i)` changes the flags of the rest of the enclosing group.
          if (modifiers[2] === ")") {
            flags.caseless = caseless;
            return NONE;
          }
          inner = { caseless };
        }
      }
      const bounds = alternation(inner);
      i++;
      return bounds;
    }
    i += c === "[" || c === "\\" ? 1 : 0;
    if (c === "[") return characterClass(flags.caseless);
    if (c === "\\") return escape(flags.caseless);
    if (c === "^" || c === "$") {
      i++;
      return NONE;
    }
    if (c === ".") {
      i++;
      return ANY_CHAR;
    }
    const char = charAt(i);
    i += char.length;
    return literal(char, flags.caseless);
  };

  const quantified = (bounds: ByteBounds): ByteBounds => {
    const c = source[i];
    let result = bounds;
    const repeat = c === "{" ? REPEAT.exec(source.slice(i)) : null;
    if (c === "*" || c === "+" || c === "?") {
      i++;
      const unbounded = bounds.max === 0 ? 0 : Infinity;
      result = { min: c === "+" ? bounds.min : 0, max: c === "?" ? bounds.max : unbounded };
    } else if (repeat) {
      i += repeat[0].length;
      const low = Number(repeat[1]);
      const high = repeat[2] === undefined ? low : repeat[3] === "" ? Infinity : Number(repeat[3]);
      result = { min: bounds.min * low, max: bounds.max === 0 ? 0 : bounds.max * high };
    } else return bounds;
    if (source[i] === "?") i++;
    return result;
  };

  const sequence = (flags: { caseless: boolean }): ByteBounds => {
    let total = NONE;
    while (i < source.length && source[i] !== "|" && source[i] !== ")") total = concat(total, quantified(atom(flags)));
    return total;
  };

  const alternation = (flags: { caseless: boolean }): ByteBounds => {
    let bounds = sequence(flags);
    while (source[i] === "|") {
      i++;
      const next = sequence(flags);
      bounds = { min: Math.min(bounds.min, next.min), max: Math.max(bounds.max, next.max) };
    }
    return bounds;
  };

  return alternation({ caseless: false });
}

function concat(a: ByteBounds, b: ByteBounds): ByteBounds {
  return { min: a.min + b.min, max: a.max + b.max };
}
