import { describe, expect, it } from "vitest";
import { secretsFound } from "../test-redactor.js";

const SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

describe("aws-secret-key", () => {
  it("finds a 40-character secret introduced by a key-like name", () => {
    expect(secretsFound("aws-secret-key", `aws_secret_access_key = ${SECRET}`)).toEqual([SECRET]);
    expect(secretsFound("aws-secret-key", `{"SecretAccessKey": "${SECRET}"}`)).toEqual([SECRET]);
    expect(secretsFound("aws-secret-key", `secretAccessKey: '${SECRET}'`)).toEqual([SECRET]);
    expect(secretsFound("aws-secret-key", `<SecretAccessKey>${SECRET}</SecretAccessKey>`)).toEqual([SECRET]);
    expect(secretsFound("aws-secret-key", `AWS_SECRET_ACCESS_KEY=${SECRET}`)).toEqual([SECRET]);
  });

  it("ignores a bare 40-character string, a git SHA, and values of the wrong length", () => {
    expect(secretsFound("aws-secret-key", `token ${SECRET}`)).toEqual([]);
    expect(secretsFound("aws-secret-key", "commit 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b")).toEqual([]);
    expect(secretsFound("aws-secret-key", "secret_access_key: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2")).toEqual([]);
    expect(secretsFound("aws-secret-key", `secret_access_key=${SECRET.slice(1)}`)).toEqual([]);
  });
});
