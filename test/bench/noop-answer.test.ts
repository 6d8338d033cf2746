/**
 * The no-op servers restate meshrasp's default message limit instead of importing it: importing
 * would load meshrasp's module graph into the baseline process and change what it measures. This
 * keeps the two equal, so both sides of the ratio refuse the same messages.
 */
import { describe, expect, it } from "vitest";
import { NOOP_MAX_MESSAGE_BYTES } from "../../bench/ext-proc/noop-answer.js";
import { SERVE_DEFAULTS } from "../../ext-proc/src/cli/serve.js";

describe("the benchmark's no-op servers", () => {
  it("accept messages up to meshrasp's default limit, no larger", () => {
    expect(NOOP_MAX_MESSAGE_BYTES).toBe(SERVE_DEFAULTS.maxMessageBytes);
  });
});
