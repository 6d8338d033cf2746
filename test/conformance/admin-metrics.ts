/** Reads meshrasp's admin `/metrics` (Prometheus text format) the way a scraper would. */

export type Labels = Readonly<Record<string, string>>;

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Sum of every sample of `name` whose labels include `labels` (other labels are ignored);
 * 0 when there is none, which is also what a counter that never moved means.
 */
export function metricValue(exposition: string, name: string, labels: Labels = {}): number {
  let total = 0;
  for (const line of exposition.split("\n")) {
    const sample = SAMPLE.exec(line);
    if (sample === null || sample[1] !== name) continue;
    const found = new Map<string, string>();
    for (const label of (sample[2] ?? "").matchAll(LABEL)) found.set(label[1] ?? "", label[2] ?? "");
    if (Object.entries(labels).every(([key, value]) => found.get(key) === value)) total += Number(sample[3]);
  }
  return total;
}

export class AdminClient {
  constructor(private readonly port: number) {}

  async get(path: string): Promise<Response> {
    return fetch(`http://127.0.0.1:${this.port}${path}`);
  }

  async metric(name: string, labels: Labels = {}): Promise<number> {
    const response = await this.get("/metrics");
    if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
    return metricValue(await response.text(), name, labels);
  }

  /** Polls until the metric equals `expected` (cleanup after a cancel is asynchronous); returns the last value read. */
  async metricSettlesAt(name: string, expected: number, labels: Labels = {}, timeoutMs = 3_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    let value = await this.metric(name, labels);
    while (value !== expected && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      value = await this.metric(name, labels);
    }
    return value;
  }

  openStreams(): Promise<number> {
    return this.metric("meshrasp_open_streams");
  }

  streamErrors(code?: string): Promise<number> {
    return this.metric("meshrasp_stream_errors_total", code === undefined ? {} : { code });
  }
}
