import { describe, expect, it } from "vitest";
import { contentTypeKind } from "../engine/request-body.js";
import { mediaType } from "../engine/media-type.js";
import { isJsonType, isTextType } from "./media-type.js";

describe("media types", () => {
  it("strips parameters and case", () => {
    expect(mediaType("Application/JSON; charset=utf-8")).toBe("application/json");
    expect(mediaType(undefined)).toBe("");
  });

  it.each([
    ["application/json", true, true],
    ["application/problem+json", true, true],
    ["application/jsonp", false, true],
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

describe("textual media types: one list for the policy and the engine", () => {
  // The policy skips the bodies of responses that are not text; the engine does not sniff request
  // bodies that are not text for parameters. Both read the same list, pinned here.
  const types: readonly (readonly [string, boolean])[] = [
    ["text/plain", true],
    ["Text/CSV; charset=utf-8", true],
    ["application/json", true],
    ["application/vnd.api+json", true],
    ["application/x-ndjson", true],
    ["application/jsonp", true],
    ["application/x-amz-json-1.1", true],
    ["application/xml", true],
    ["image/svg+xml", true],
    ["application/x-www-form-urlencoded", true],
    ["application/javascript", true],
    ["application/x-javascript", true],
    ["application/ecmascript", true],
    ["application/graphql", true],
    ["application/yaml", true],
    ["application/x-yaml", true],
    ["application/vnd.oai.openapi+yaml", true],
    ["application/csp-report", true],
    ["application/octet-stream", false],
    ["application/x-amz-cbor-1.1", false],
    ["application/protobuf", false],
    ["application/grpc", false],
    ["application/zip", false],
    ["image/png", false],
    ["font/woff2", false],
  ];

  it.each(types)("%s: text %s", (type, textual) => {
    expect(isTextType(type)).toBe(textual);
    // The engine parses JSON, XML and forms by name; any other text is sniffed, anything else is not.
    expect(contentTypeKind(type) !== "unknown").toBe(textual);
  });

  it("count a missing content type as text, which the engine sniffs", () => {
    expect(isTextType(undefined)).toBe(true);
    expect(contentTypeKind("")).toBeUndefined();
  });
});
