import { describe, expect, it } from "vitest";
import { parseContentEncoding } from "./content-encoding.js";

describe("parseContentEncoding", () => {
  it("reads the three supported codings, x-gzip and identity, in any case", () => {
    expect(parseContentEncoding("gzip")).toBe("gzip");
    expect(parseContentEncoding(" X-GZIP ")).toBe("gzip");
    expect(parseContentEncoding("deflate")).toBe("deflate");
    expect(parseContentEncoding("br")).toBe("br");
    expect(parseContentEncoding("identity, br")).toBe("br");
    for (const none of [undefined, "", "identity", " Identity "]) expect(parseContentEncoding(none)).toBe("identity");
  });

  it("reports unknown and stacked codings as unsupported, with the header", () => {
    expect(parseContentEncoding("zstd")).toEqual({ unsupported: "zstd" });
    expect(parseContentEncoding("compress")).toEqual({ unsupported: "compress" });
    expect(parseContentEncoding("gzip, br")).toEqual({ unsupported: "gzip, br" });
    expect(parseContentEncoding("gzip,gzip")).toEqual({ unsupported: "gzip,gzip" });
  });
});
