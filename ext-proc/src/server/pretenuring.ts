/**
 * Turns off V8's allocation-site pretenuring for the server process.
 *
 * V8 watches where objects are allocated and, when most objects of one site survive young-
 * generation collections, allocates that site's objects in the old generation from then on. Under
 * a burst (or load on a server whose code is not optimized yet) the per-request objects of the
 * stack and of meshrasp live long enough to look long-lived, and the decision sticks: every
 * request's objects then go to the old generation, each young-generation collection has many more
 * old-to-young references to scan, and they took 7-11 ms instead of about 1 ms. Measured with
 * bench/ext-proc/lockstep-client.c on a fresh server driven at 2,000 exchanges/s and then at
 * 1,400/s: p99 28-39 ms and then 9-29 ms with pretenuring; 1.9-7.1 ms and then 1.4-2.5 ms without
 * it (three runs each). A server's objects are per request; none gains from being pretenured.
 *
 * The flag holds for the whole process, so the process's entry point sets it: `meshrasp serve`
 * (cli/main.ts) and the benchmarks' no-op server, not `startMeshrasp`, which tests also call in
 * their own processes.
 */
import { setFlagsFromString } from "node:v8";

/** Call before the first requests: V8 reads the flag when it processes allocation feedback. */
export function disablePretenuring(): void {
  setFlagsFromString("--no-allocation-site-pretenuring");
}
