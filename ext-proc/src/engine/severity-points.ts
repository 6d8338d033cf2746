import type { Severity } from "./types.js";

/** Anomaly points per severity, as in CRS. */
export const SEVERITY_POINTS: Readonly<Record<Severity, number>> = {
  critical: 5,
  error: 4,
  warning: 3,
  notice: 2,
};
