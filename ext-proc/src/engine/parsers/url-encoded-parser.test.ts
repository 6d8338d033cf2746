import { describe, expect, it } from "vitest";
import { parseCookies } from "./cookie-parser.js";
import { RecordingSink } from "./test-sink.js";
import { parseUrlEncoded } from "./url-encoded-parser.js";

describe("parseUrlEncoded", () => {
  it("keeps repeated and array keys, decodes once, tolerates bad escapes", () => {
    const sink = new RecordingSink();
    expect(parseUrlEncoded("a=1&a=2&b[]=%2527&c&%zz=%4&&", sink, "query_arg_names", "query_args")).toBe(true);
    expect(sink.of("query_args")).toEqual([
      ["a", "1"],
      ["a", "2"],
      ["b[]", "%27"],
      ["c", ""],
      ["%zz", "%4"],
    ]);
  });

  it("returns false when the sink refuses more values", () => {
    expect(parseUrlEncoded("a=1&b=2&c=3", new RecordingSink(3), "body_arg_names", "body_args")).toBe(false);
  });
});

describe("parseCookies", () => {
  it("splits names and values", () => {
    const sink = new RecordingSink();
    parseCookies("sid=abc; theme = dark ;flag", sink);
    expect(sink.of("cookies")).toEqual([
      ["sid", "abc"],
      ["theme", "dark"],
      ["flag", ""],
    ]);
  });
});
