import { describe, expect, it } from "vitest";
import { bodyChunkInfo } from "./body-mode.js";

describe("bodyChunkInfo", () => {
  it.each([
    ["streamed", false, { last: false, complete: true }],
    ["streamed", true, { last: true, complete: true }],
    ["buffered", false, { last: true, complete: true }],
    ["buffered_partial", false, { last: true, complete: false }],
    ["buffered_partial", true, { last: true, complete: true }],
    ["full_duplex", false, { last: false, complete: true }],
    ["unknown", false, { last: false, complete: true }],
  ] as const)("%s with end_of_stream %s", (mode, endOfStream, expected) => {
    expect(bodyChunkInfo(mode, endOfStream)).toEqual(expected);
  });
});
