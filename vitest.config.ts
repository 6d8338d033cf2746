import { defineConfig } from "vitest/config";

/**
 * Tests that measure time or memory against a figure. They run after every other test file, alone,
 * so the suite's other files cannot slow them: on a two-vCPU machine a busy sibling core stretches
 * CPU time by up to 60 %.
 */
const MEASURING = ["test/engine/adversarial-throughput.test.ts", "test/redaction/served-stream-memory.test.ts"];

export default defineConfig({
  test: {
    // Native re2 and gRPC servers: threads share the addon poorly; forks are the safe pool.
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: "suite", include: ["ext-proc/**/*.test.ts", "test/**/*.test.ts"], exclude: MEASURING, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: "measuring", include: MEASURING, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
