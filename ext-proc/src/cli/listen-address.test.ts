import { describe, expect, it } from "vitest";
import { formatAddress, parseListenAddress, UsageError } from "./listen-address.js";

describe("parseListenAddress", () => {
  it.each([
    ["0.0.0.0:50051", { host: "0.0.0.0", port: 50051 }],
    ["localhost:0", { host: "localhost", port: 0 }],
    ["[::]:9464", { host: "::", port: 9464 }],
  ])("parses %s", (text, expected) => {
    expect(parseListenAddress(text, "--grpc")).toEqual(expected);
    expect(formatAddress(expected)).toBe(text);
  });

  it.each(["50051", "host:", "host:70000", "::1:80", "a b:1"])("rejects %s naming the flag", (text) => {
    expect(() => parseListenAddress(text, "--grpc")).toThrow(UsageError);
    expect(() => parseListenAddress(text, "--grpc")).toThrow(/^--grpc: /);
  });
});
