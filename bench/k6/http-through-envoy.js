// k6: HTTP through Envoy (envoy/docker-compose.yaml) with a mix of benign and attack requests.
//   node bench/k6/make-mix.mjs ../shared/corpus/openappsec-malicious.jsonl.gz ../shared/corpus/openappsec-legit-sample.jsonl.gz
//   k6 run -e BASE_URL=http://127.0.0.1:10000 bench/k6/http-through-envoy.js
// A request counts as blocked only when Envoy answers 403 (meshrasp's deny).
import http from "k6/http";
import encoding from "k6/encoding";
import { check } from "k6";
import { Rate } from "k6/metrics";
import { SharedArray } from "k6/data";

const BASE_URL = __ENV.BASE_URL || "http://127.0.0.1:10000";
const mix = new SharedArray("mix", () => JSON.parse(open(__ENV.MIX || "./mix.json")));

const attacksBlocked = new Rate("attacks_blocked");
const benignBlocked = new Rate("benign_blocked");

export const options = {
  scenarios: {
    mixed: { executor: "constant-arrival-rate", rate: Number(__ENV.RATE || 200), timeUnit: "1s", duration: __ENV.DURATION || "60s", preAllocatedVUs: 50, maxVUs: 200 },
  },
  thresholds: {
    "http_req_duration{label:benign}": ["p(95)<50"],
    http_req_failed: ["rate<0.01"],
    attacks_blocked: ["rate>0.95"],
    benign_blocked: ["rate<0.01"],
  },
};

export default function () {
  const request = mix[Math.floor(Math.random() * mix.length)];
  const body = request.body ? encoding.b64decode(request.body) : null;
  const response = http.request(request.method, `${BASE_URL}${request.uri}`, body, {
    headers: request.headers,
    tags: { label: request.label },
    // A 403 is the expected answer to an attack, not a failed request.
    responseCallback: http.expectedStatuses({ min: 200, max: 499 }),
  });
  const blocked = response.status === 403;
  if (request.label === "attack") attacksBlocked.add(blocked);
  else benignBlocked.add(blocked);
  check(response, { "a deny carries a decision id": (r) => r.status !== 403 || /"id"\s*:\s*"[0-9a-f-]{36}"/.test(r.body || "") });
}
