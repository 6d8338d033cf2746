import { tokenEnd, tokenStart, type Detector } from "../detector.js";

const LOCAL = "A-Za-z0-9._%+-";

/** Email addresses (ASCII): local part, `@`, dotted domain with an alphabetic top-level label. */
export const email: Detector = {
  name: "email",
  pattern: `${tokenStart(LOCAL)}(?P<secret>[${LOCAL}]{1,64}@(?:[A-Za-z0-9-]{1,63}\\.){1,8}[A-Za-z]{2,24})${tokenEnd("A-Za-z0-9-")}`,
  keepLast: 0,
};
