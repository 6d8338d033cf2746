/** `HOST:PORT` as given on the command line (`[::1]:50051` for IPv6), checked once. */

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function parseListenAddress(text: string, flag: string): ListenAddress {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text);
  const port = match ? Number(match[3]) : NaN;
  const host = match?.[1] ?? match?.[2];
  if (host === undefined || !Number.isInteger(port) || port > 65535) {
    throw new UsageError(`${flag}: "${text}" is not HOST:PORT (e.g. 0.0.0.0:50051 or [::]:50051)`);
  }
  return { host, port };
}

/** How grpc-js and Node's net module spell the address. */
export function formatAddress({ host, port }: ListenAddress): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
