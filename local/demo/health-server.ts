import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP server standing in for an application's health endpoints. */
export interface HealthServer {
  /** The URL of a path on the server. */
  url(path: string): string;
  /** What a path answers from now on (200 unless set). */
  answer(path: string, status: number): void;
  /** How many requests a path got. */
  hits(path: string): number;
  stop(): Promise<void>;
}

/** Starts the server on a free port on 127.0.0.1. */
export async function startHealthServer(): Promise<HealthServer> {
  const statuses = new Map<string, number>();
  const counts = new Map<string, number>();
  const server = createServer((request, response) => {
    const path = request.url ?? '/';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    const status = statuses.get(path) ?? 200;
    response.writeHead(status, { 'content-type': 'text/plain' });
    response.end(status < 300 ? 'ok\n' : 'unavailable\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    answer: (path, status) => statuses.set(path, status),
    hits: (path) => counts.get(path) ?? 0,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
