import { describe, expect, it } from "vitest";
import { requestHead, responseHead, setHeader } from "./header-codec.js";

const entry = (key: string, raw: Buffer | string, value = "") => ({ key, value, rawValue: Buffer.isBuffer(raw) ? raw : Buffer.from(raw) });

describe("header codec", () => {
  it("splits pseudo-headers from headers and keeps repeated headers in order", () => {
    const head = requestHead({
      headers: [entry(":method", "GET"), entry(":path", "/a?b=1"), entry(":authority", "shop"), entry("set-cookie", "a"), entry("set-cookie", "b")],
    });
    expect(head).toMatchObject({ method: "GET", path: "/a?b=1", authority: "shop" });
    expect(head.headers.map((h) => `${h.name}=${h.value.toString()}`)).toEqual(["set-cookie=a", "set-cookie=b"]);
  });

  it("keeps non-UTF-8 bytes untouched", () => {
    const raw = Buffer.from([0x61, 0xff, 0xfe, 0x00]);
    expect(requestHead({ headers: [entry("x-bin", raw)] }).headers[0]?.value.equals(raw)).toBe(true);
  });

  it("falls back to value when a non-Envoy client fills only value", () => {
    expect(requestHead({ headers: [{ key: "x-a", value: "v", rawValue: Buffer.alloc(0) }] }).headers[0]?.value.toString()).toBe("v");
  });

  it("reads the response status", () => {
    expect(responseHead({ headers: [entry(":status", "503")] }).status).toBe(503);
    expect(responseHead(undefined).status).toBe(0);
  });

  it("writes raw_value only and append explicitly", () => {
    const option = setHeader("x-a", "b");
    expect(option.header).toEqual({ key: "x-a", value: "", rawValue: Buffer.from("b") });
    expect(option.append).toBe(false);
    expect(setHeader("set-cookie", "c", true).append).toBe(true);
  });
});
