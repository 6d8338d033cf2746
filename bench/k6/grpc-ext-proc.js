// k6: meshrasp's ext_proc gRPC service driven directly, as Envoy drives it (headers, then a
// BUFFERED 1 KiB JSON body), without Envoy in the way. Needs k6 with k6/net/grpc streams.
//   k6 run -e MESHRASP=127.0.0.1:50051 bench/k6/grpc-ext-proc.js
import grpc from "k6/net/grpc";
import encoding from "k6/encoding";
import { check } from "k6";
import { Trend, Rate } from "k6/metrics";

const client = new grpc.Client();
// The service's .proto is ours (protos/src); its imports come from the Envoy API that
// @grpc/grpc-js-xds ships (run npm ci first).
const DEPS = "../../node_modules/@grpc/grpc-js-xds/deps";
client.load(
  ["../../protos/src", `${DEPS}/envoy-api`, `${DEPS}/xds`, `${DEPS}/googleapis`, `${DEPS}/protoc-gen-validate`],
  "envoy/service/ext_proc/v3/external_processor.proto",
);

const exchange = new Trend("ext_proc_exchange_ms", true);
const correct = new Rate("ext_proc_answers_correct");

export const options = {
  scenarios: {
    streams: { executor: "constant-vus", vus: Number(__ENV.VUS || 64), duration: __ENV.DURATION || "30s" },
  },
  thresholds: {
    ext_proc_exchange_ms: ["p(99)<5"],
    ext_proc_answers_correct: ["rate>0.999"],
  },
};

const raw = (text) => encoding.b64encode(text);
const header = (key, value) => ({ key, raw_value: raw(value) });
const BODY = JSON.stringify({ customer: { id: 48213, tier: "gold" }, items: [{ sku: "SKU-1000", quantity: 2 }], note: "x".repeat(900) });

export default function () {
  if (__ITER === 0) client.connect(__ENV.MESHRASP || "127.0.0.1:50051", { plaintext: true });
  const started = Date.now();
  const stream = new grpc.Stream(client, "envoy.service.ext_proc.v3.ExternalProcessor/Process");
  const answers = [];
  stream.on("data", (answer) => {
    answers.push(answer);
    if (answers.length === 1) {
      stream.write({ request_body: { body: raw(BODY), end_of_stream: true } });
    } else {
      exchange.add(Date.now() - started);
      stream.end();
    }
  });
  stream.on("end", () => {
    correct.add(answers.length === 2 && "request_headers" in answers[0] && "request_body" in answers[1]);
    check(answers, { "two answers in order": (a) => a.length === 2 });
  });
  stream.write({
    request_headers: {
      headers: { headers: [header(":method", "POST"), header(":path", "/api/orders"), header(":authority", "shop"), header(":scheme", "http"), header("content-type", "application/json")] },
      end_of_stream: false,
    },
    protocol_config: { request_body_mode: "BUFFERED", response_body_mode: "NONE" },
  });
}
