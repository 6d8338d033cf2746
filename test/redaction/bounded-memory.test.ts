import { describe, expect, it } from "vitest";
import { compileRedactor, DEFAULT_REDACTION_DETECTORS } from "../../ext-proc/src/engine/redaction/index.js";
import { exposeGc } from "../../ext-proc/src/server/transient-memory.js";

/**
 * 100 MiB streamed through one redactor in 64 KiB chunks, generated on the fly, with a secret
 * planted every 3 MiB (half of them cut by a chunk boundary): every secret is masked and the
 * memory kept after garbage collection stays under 8 MiB (the hold is ~8 KiB).
 */

const TOTAL_BYTES = 100 * 1024 * 1024;
const CHUNK_BYTES = 64 * 1024;
const PLANT_EVERY_BYTES = 3 * 1024 * 1024;
/** The brief allows 32 MiB; a stream keeps about 8 KiB, so a tighter bound catches a leak sooner. */
const MAX_GROWTH_BYTES = 8 * 1024 * 1024;
const JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
const PLANTS: readonly { detector: string; text: string }[] = [
  { detector: "credit-card", text: "4111 1111 1111 1111" },
  { detector: "aws-access-key", text: "AKIAIOSFODNN7EXAMPLE" },
  { detector: "jwt", text: JWT },
  { detector: "private-key", text: `-----BEGIN PRIVATE KEY-----\n${"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n".repeat(60)}-----END PRIVATE KEY-----` },
  { detector: "iban", text: "DE89 3704 0044 0532 0130 00" },
  { detector: "api-token", text: `ghp_${"aB3dE5gH7j".repeat(3)}aB3dE5` },
];

/** Two full collections around a turn of the event loop: V8 frees ArrayBuffer memory on a background sweeper. */
async function retainedBytes(gc: () => void): Promise<number> {
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

describe("streaming redaction memory", () => {
  it("masks every planted secret in 100 MiB while holding memory bounded", async () => {
    // Full collections, so retained memory (not garbage) is measured.
    const gc = exposeGc();
    if (gc === undefined) throw new Error("this V8 gives no gc()");
    const redactor = compileRedactor({ detectors: DEFAULT_REDACTION_DETECTORS, custom: [], jsonFields: [], mask: { char: "*" } });
    const filler = Buffer.alloc(CHUNK_BYTES, "lorem ipsum dolor sit amet, consectetur adipiscing elit; ");
    const stream = redactor.stream(false);
    const baseline = await retainedBytes(gc);
    let peakGrowth = 0;
    const planted = new Map<string, number>();
    const found = new Map<string, number>();
    let carry = Buffer.alloc(0);
    let nextPlant = PLANT_EVERY_BYTES;
    let plantIndex = 0;
    let tail = Buffer.alloc(0);
    const leaks: string[] = [];
    const started = performance.now();
    for (let offset = 0; offset < TOTAL_BYTES; offset += CHUNK_BYTES) {
      const chunk = Buffer.from(filler);
      carry.copy(chunk, 0);
      carry = Buffer.alloc(0);
      if (offset + CHUNK_BYTES > nextPlant) {
        const plant = PLANTS[plantIndex % PLANTS.length];
        if (!plant) throw new Error("no plant");
        const text = Buffer.from(` ${plant.text} `);
        // Every other secret straddles the boundary with the next chunk.
        const at = plantIndex % 2 === 0 ? 1000 : CHUNK_BYTES - Math.floor(text.length / 2);
        text.copy(chunk, at);
        carry = text.subarray(CHUNK_BYTES - at);
        planted.set(plant.detector, (planted.get(plant.detector) ?? 0) + 1);
        plantIndex++;
        nextPlant += PLANT_EVERY_BYTES;
      }
      const result = stream.push(chunk);
      for (const hit of result.hits) found.set(hit.detector, (found.get(hit.detector) ?? 0) + 1);
      const window = Buffer.concat([tail, result.body]);
      for (const plant of PLANTS) if (window.includes(plant.text)) leaks.push(plant.detector);
      tail = Buffer.from(window.subarray(Math.max(0, window.length - 4096)));
      if (offset % (16 * 1024 * 1024) === 0) peakGrowth = Math.max(peakGrowth, (await retainedBytes(gc)) - baseline);
    }
    const last = stream.end();
    for (const hit of last.hits) found.set(hit.detector, (found.get(hit.detector) ?? 0) + 1);
    peakGrowth = Math.max(peakGrowth, (await retainedBytes(gc)) - baseline);
    const seconds = (performance.now() - started) / 1000;
    console.log(`100 MiB in ${seconds.toFixed(2)} s (${(100 / seconds).toFixed(0)} MiB/s), retained growth ${(peakGrowth / 1024).toFixed(0)} KiB`);
    expect(plantIndex).toBeGreaterThanOrEqual(33);
    expect(leaks).toEqual([]);
    expect(found).toEqual(planted);
    expect(peakGrowth).toBeLessThan(MAX_GROWTH_BYTES);
  });
});
