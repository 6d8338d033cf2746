import { describe, expect, it } from "vitest";
import { exposeGc, TransientMemory } from "./transient-memory.js";

describe("TransientMemory", () => {
  it("asks for a young-generation collection once every `everyBytes` received", () => {
    const calls: unknown[] = [];
    const memory = new TransientMemory(1000, (options) => calls.push(options));
    memory.received(600);
    expect(calls).toEqual([]);
    memory.received(400);
    expect(calls).toEqual([{ type: "minor", execution: "sync" }]);
    for (let i = 0; i < 9; i++) memory.received(250);
    expect(calls).toHaveLength(3);
    expect(memory.collections).toBe(3);
  });

  it("gets V8's gc() without the command-line flag, and leaves the flag off", async () => {
    const gc = exposeGc();
    expect(typeof gc).toBe("function");
    gc?.({ type: "minor", execution: "sync" });
    const { runInNewContext } = await import("node:vm");
    expect(runInNewContext("typeof gc")).toBe("undefined");
  });

  it("collects for real with V8's own gc() by default", () => {
    const memory = new TransientMemory(10);
    memory.received(10);
    expect(memory.collections).toBe(1);
  });
});
