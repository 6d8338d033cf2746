/**
 * The engine's only clock: a deadline for one phase. The engine asks between values, often
 * thousands of times per body; the clock is read on every eighth question, which keeps the check
 * off the profile while each value's scan stays linear-time and bounded. Once over, always over.
 */
import type { Budget } from "../engine/types.js";

/** Questions answered from the last reading before the clock is read again. */
const CHECK_EVERY = 8;

export class PhaseBudget implements Budget {
  private readonly deadline: number;
  private asked = 0;
  private over = false;

  constructor(milliseconds: number, now: number = performance.now()) {
    this.deadline = now + milliseconds;
  }

  exceeded(): boolean {
    if (this.over) return true;
    this.asked += 1;
    if (this.asked % CHECK_EVERY !== 1) return false;
    this.over = performance.now() > this.deadline;
    return this.over;
  }
}
