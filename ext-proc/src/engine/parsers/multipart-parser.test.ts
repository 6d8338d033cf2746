import { describe, expect, it } from "vitest";
import { multipartBoundary, parseMultipart } from "./multipart-parser.js";
import { RecordingSink } from "./test-sink.js";

const body = [
  "--XyZ",
  'Content-Disposition: form-data; name="title"',
  "",
  "hello",
  "--XyZ",
  'Content-Disposition: form-data; name="upload"; filename="../../shell.php"',
  "Content-Type: application/x-php",
  "",
  "<?php system($_GET[1]); ?>",
  "--XyZ--",
  "",
].join("\r\n");

describe("parseMultipart", () => {
  it("reads the boundary, quoted or not", () => {
    expect(multipartBoundary('multipart/form-data; boundary="a b"')).toBe("a b");
    expect(multipartBoundary("multipart/form-data; boundary=XyZ")).toBe("XyZ");
    expect(multipartBoundary("multipart/form-data")).toBeUndefined();
  });

  it("emits names, filenames, part content types and non-file values", () => {
    const sink = new RecordingSink();
    expect(parseMultipart(body, "XyZ", 10, sink)).toBe("complete");
    expect(sink.of("multipart")).toEqual([["title", "hello"]]);
    expect(sink.of("multipart_filenames")).toEqual([["upload", "../../shell.php"]]);
    expect(sink.of("multipart_content_types")).toEqual([["upload", "application/x-php"]]);
  });

  it("reports a wrong boundary, a missing end and too many parts", () => {
    expect(parseMultipart(body, "nope", 10, new RecordingSink())).toBe("unparsable_body");
    expect(parseMultipart(body.slice(0, 60), "XyZ", 10, new RecordingSink())).toBe("unparsable_body");
    expect(parseMultipart(body, "XyZ", 1, new RecordingSink())).toBe("multipart_parts");
  });
});
