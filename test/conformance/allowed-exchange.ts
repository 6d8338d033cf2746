/**
 * One GET the policy lets through, with a buffered response page, as Envoy drives it: request
 * headers, response headers and body, each answered with CONTINUE, then Envoy's ending.
 */
import { expectContinue } from "./answer-checks.js";
import { getRequest, okResponseHeaders, responseBody } from "./envoy-messages.js";
import { BodyMode, type FakeEnvoy } from "./fake-envoy.js";

/** A page the data-leak rules match (an SQL error), which the default policy only logs. */
export const SQL_ERROR_PAGE = "<html><body>You have an error in your SQL syntax near 'x'</body></html>";

export async function exchangeAllowed(envoy: FakeEnvoy, path: string, page: string, requestId?: string): Promise<void> {
  const stream = envoy.open({ responseBodyMode: BodyMode.BUFFERED });
  expectContinue(await stream.exchange(getRequest(path, requestId)), "requestHeaders");
  expectContinue(await stream.exchange(okResponseHeaders()), "responseHeaders");
  expectContinue(await stream.exchange(responseBody(page, true)), "responseBody");
  stream.closeLikeEnvoy();
}
