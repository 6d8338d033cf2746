import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["ext-proc/**/*.test.ts", "test/**/*.test.ts"],
    // Native re2 and gRPC servers: threads share the addon poorly; forks are the safe pool.
    pool: "forks",
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
