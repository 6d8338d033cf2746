import { ALNUM, tokenEnd, tokenStart, type Detector } from "../detector.js";

/** AWS access key ids: a documented four-letter prefix (AKIA long-term, ASIA temporary, …) and 16 more. */
export const awsAccessKey: Detector = {
  name: "aws-access-key",
  pattern:
    `${tokenStart(ALNUM)}(?P<secret>(?:A3T[A-Z0-9]|AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16})` +
    tokenEnd(ALNUM),
  keepLast: 0,
};
