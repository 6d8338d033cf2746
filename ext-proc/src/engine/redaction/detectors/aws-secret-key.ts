import type { Detector } from "../detector.js";

/**
 * AWS secret access keys. Forty base64 characters are too common on their own (hashes, ids), so
 * only a value introduced by a key-like name counts: `aws_secret_access_key=…`,
 * `"SecretAccessKey": "…"`, `<SecretAccessKey>…</SecretAccessKey>`.
 */
export const awsSecretKey: Detector = {
  name: "aws-secret-key",
  pattern:
    `(?i:(?:aws[_-]?)?secret[_-]?access[_-]?key)["']?[ \\t]{0,4}(?:=>|[:=>])[ \\t]{0,4}["']?` +
    `(?P<secret>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)`,
  keepLast: 0,
};
