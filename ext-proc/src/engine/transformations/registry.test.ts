import { describe, expect, it } from "vitest";
import { TRANSFORMATIONS } from "./registry.js";
import type { TransformContext } from "./transform-context.js";

function run(name: string, input: string, maxDecodePasses = 4): { out: string; context: TransformContext } {
  const transform = TRANSFORMATIONS.get(name);
  if (!transform) throw new Error(`no transformation ${name}`);
  const context: TransformContext = { maxDecodePasses, decodePassesExhausted: false };
  return { out: transform.apply(input, context), context };
}

describe("transformations", () => {
  it("url_decode repeats until stable and stops at the pass limit", () => {
    expect(run("url_decode", "%2527%20or+1").out).toBe("' or 1");
    expect(run("url_decode", "%zz%4").out).toBe("%zz%4");
    const bounded = run("url_decode", "%252525252527", 2);
    expect(bounded.out).toBe("%25252527");
    expect(bounded.context.decodePassesExhausted).toBe(true);
  });

  it("url_decode_uni decodes %uXXXX and folds full-width ASCII", () => {
    expect(run("url_decode_uni", "%u003cscript%uFF1E").out).toBe("<script>");
    expect(run("url_decode_uni", "%u4e2d").out).toBe(Buffer.from("中").toString("latin1"));
  });

  it("html_entity_decode handles numeric, hex, named and semicolon-less references", () => {
    expect(run("html_entity_decode", "&lt;a&#x3E;&#0000106avascript&colon;").out).toBe("<a>javascript:");
    expect(run("html_entity_decode", "&unknown; &#99999999;").out).toBe("&unknown; &#99999999;");
  });

  it("js_decode handles \\u, \\x, octal and simple escapes", () => {
    expect(run("js_decode", "\\u003cimg\\x20src\\u{3d}\\101\\n").out).toBe("<img src=A\n");
  });

  it("lowercase, compress_whitespace, remove_nulls, trim", () => {
    expect(run("lowercase", "SeLeCt").out).toBe("select");
    expect(run("compress_whitespace", "a \t\n\u000b\u00a0 b").out).toBe("a b");
    expect(run("remove_nulls", "a\0b\0").out).toBe("ab");
    expect(run("trim", "  x ").out).toBe("x");
  });

  it("normalize_path resolves segments but keeps climbs above the start", () => {
    expect(run("normalize_path", "/a/./b//c/../d").out).toBe("/a/b/d");
    expect(run("normalize_path", "..\\..\\windows\\win.ini").out).toBe("../../windows/win.ini");
    expect(run("normalize_path", "/img/../../../etc/passwd").out).toBe("/../../etc/passwd");
    expect(run("normalize_path", "\u00c0\u00ae\u00c0\u00ae\u00c0\u00afetc").out).toBe("../etc");
  });

  it("remove_comments blanks comments and keeps MySQL versioned comment bodies", () => {
    expect(run("remove_comments", "UNION/**/SELECT/*x").out).toBe("UNION SELECT ");
    expect(run("remove_comments", "/*!50000union*/ select").out).toBe(" union  select");
  });

  it("cmd_line undoes quote, caret, backslash and $IFS obfuscation", () => {
    expect(run("cmd_line", "c'a't${IFS}/e\"t\"c/pa\\ss$@wd").out).toBe("cat /etc/passwd");
    expect(run("cmd_line", "C^M^D /c  DIR,c:\\").out).toBe("CMD /c DIR c:");
  });

  it("base64_decode decodes only values that look like base64 text", () => {
    expect(run("base64_decode", Buffer.from("<script>alert(1)</script>").toString("base64")).out).toBe("<script>alert(1)</script>");
    expect(run("base64_decode", "hello world").out).toBe("");
    expect(run("base64_decode", Buffer.from([0, 1, 2, 3, 250, 251, 252, 253, 254, 255, 1, 2, 3, 4, 5, 6]).toString("base64")).out).toBe("");
  });

  it("every registered name resolves to a function", () => {
    expect([...TRANSFORMATIONS.keys()].sort()).toEqual(
      [
        "base64_decode", "cmd_line", "compress_whitespace", "html_entity_decode", "js_decode", "lowercase",
        "normalize_path", "remove_comments", "remove_nulls", "trim", "url_decode", "url_decode_uni",
      ],
    );
  });
});
