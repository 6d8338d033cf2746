import { describe, expect, it } from "vitest";
import { isJsonType, isTextType, mediaType } from "./media-type.js";

describe("media types", () => {
  it("strips parameters and case", () => {
    expect(mediaType("Application/JSON; charset=utf-8")).toBe("application/json");
    expect(mediaType(undefined)).toBe("");
  });

  it.each([
    ["application/json", true, true],
    ["application/problem+json", true, true],
    ["application/jsonp", false, false],
    ["text/html; charset=utf-8", false, true],
    ["application/xml", false, true],
    ["application/atom+xml", false, true],
    ["image/svg+xml", false, true],
    ["image/png", false, false],
    ["application/octet-stream", false, false],
    ["", false, true],
  ])("%s: json %s, text %s", (type, json, text) => {
    expect(isJsonType(type)).toBe(json);
    expect(isTextType(type)).toBe(text);
  });
});
