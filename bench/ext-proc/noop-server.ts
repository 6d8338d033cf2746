/**
 * The baseline for `npm run bench:ext-proc`: an ext_proc server on exactly meshrasp's stack
 * (grpc-js, the same generated codecs, the same server options, V8's allocation-site pretenuring
 * off as meshrasp has it) that answers every message with an empty continue and inspects nothing.
 * Usage: node noop-server.js HOST:PORT
 */
import { Server, ServerCredentials, type ServerDuplexStream } from "@grpc/grpc-js";
import {
  ExternalProcessorService,
  type ProcessingRequest,
  type ProcessingResponse,
} from "../../protos/generated/envoy/service/ext_proc/v3/external_processor.js";
import { disablePretenuring } from "../../ext-proc/src/server/pretenuring.js";
import { answer, NOOP_MAX_MESSAGE_BYTES } from "./noop-answer.js";

disablePretenuring();
const address = process.argv[2] ?? "127.0.0.1:50061";
const server = new Server({ "grpc.max_receive_message_length": NOOP_MAX_MESSAGE_BYTES });
server.addService(ExternalProcessorService, {
  process: (call: ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => {
    call.on("data", (message: ProcessingRequest) => {
      const reply = answer(message);
      if (reply) call.write(reply);
    });
    call.on("end", () => call.end());
    call.on("error", () => undefined);
  },
});
server.bindAsync(address, ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    process.stderr.write(`noop-server: ${error.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ event: "listening", grpc: `${address.split(":")[0]}:${port}` })}\n`);
});
process.on("SIGTERM", () => server.tryShutdown(() => process.exit(0)));
