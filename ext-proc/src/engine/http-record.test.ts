import { describe, expect, it } from "vitest";
import { inspectRecord, recordHeader, type HttpRecord } from "./http-record.js";
import type { Budget, Engine, RequestHead, Verdict } from "./types.js";

const never: Budget = { exceeded: () => false };
const ALLOW: Verdict = { action: "allow", status: 200, score: 0, matches: [], truncated: [] };

/** Header names as recorded traffic spells them: not always the canonical case. */
const record: HttpRecord = {
  method: "POST",
  uri: "/login",
  headers: { HOST: "shop.example.com:8080", "content-TYPE": "application/json", Accept: "*/*" },
  body: "{}",
};

/** An engine that only records the request head it is given. */
function headRecorder(): { engine: Engine; heads: RequestHead[] } {
  const heads: RequestHead[] = [];
  const engine: Engine = {
    newTransaction: () => ({
      inspectRequestHeaders: (head) => {
        heads.push(head);
        return ALLOW;
      },
      inspectRequestBody: () => ALLOW,
      inspectResponseHeaders: () => ALLOW,
      inspectResponseBody: () => ALLOW,
    }),
  };
  return { engine, heads };
}

describe("recordHeader", () => {
  it("finds a header whatever the case of its name in the record and in the question", () => {
    expect(recordHeader(record, "host")).toBe("shop.example.com:8080");
    expect(recordHeader(record, "Host")).toBe("shop.example.com:8080");
    expect(recordHeader(record, "Content-Type")).toBe("application/json");
    expect(recordHeader(record, "content-type")).toBe("application/json");
  });

  it("gives undefined for a header the record does not carry", () => {
    expect(recordHeader(record, "cookie")).toBeUndefined();
  });
});

describe("inspectRecord", () => {
  it("takes the authority from a Host header spelled in any case", () => {
    const { engine, heads } = headRecorder();
    inspectRecord(engine, record, never);
    expect(heads.map((head) => head.authority)).toEqual(["shop.example.com:8080"]);
  });
});
