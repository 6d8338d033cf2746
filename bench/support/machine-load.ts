/** Other work on the machine skews every benchmark: each measures it and records it. */
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/stat (USER_HZ, 100 on Linux). */
export const TICKS_PER_SECOND = 100;

function busyTicks(): number {
  const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
  const total = fields.reduce((a, b) => a + b, 0);
  return total - (fields[3] ?? 0) - (fields[4] ?? 0);
}

/** Cores used by everything on the machine but this process over `ms`. */
export async function machineLoad(ms: number): Promise<number> {
  const before = busyTicks();
  const self = process.cpuUsage();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const busySeconds = (busyTicks() - before) / TICKS_PER_SECOND;
  const own = process.cpuUsage(self);
  return Math.max(0, busySeconds - (own.user + own.system) / 1e6) / (ms / 1000);
}
