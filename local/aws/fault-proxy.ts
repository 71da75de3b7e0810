import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the proxy did with the calls it saw. */
export interface FaultCounts {
  passed: number;
  throttled: number;
  dropped: number;
  refused: number;
}

/** An HTTP proxy in front of the local AWS that throttles some calls and loses some answers. */
export interface FaultProxy {
  /** e.g. http://127.0.0.1:41235, for a client's endpoint */
  readonly endpoint: string;
  readonly counts: FaultCounts;
  /** Sets the share of calls throttled (never reach AWS) and dropped (answer lost), 0-1. */
  faults(throttle: number, drop: number): void;
  /**
   * Makes regions unreachable: a call signed for one of them has its connection reset before
   * AWS sees it, as when a region is down. Counted in `counts.refused`.
   */
  unreachable(regions: readonly string[]): void;
  stop(): Promise<void>;
}

/** A small seeded generator, so that a failing run can be run again the same way. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A throttling answer in the protocol the call speaks: JSON (KMS), query (RDS) or REST (S3). */
function throttle(req: IncomingMessage, res: ServerResponse): void {
  if (req.headers['x-amz-target']) {
    res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ __type: 'ThrottlingException', message: 'Rate exceeded' }));
  } else if (String(req.headers['content-type'] ?? '').includes('x-www-form-urlencoded')) {
    res.writeHead(400, { 'content-type': 'text/xml' });
    res.end(
      '<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>proxy</RequestId></ErrorResponse>',
    );
  } else {
    res.writeHead(503, { 'content-type': 'application/xml' });
    res.end(
      '<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
    );
  }
}

/**
 * Starts the proxy on a free loopback port. Every call is forwarded to `target` unless the dice
 * say to throttle it (answered at once, AWS never sees it) or to drop it (AWS does it, then the
 * connection is reset before the answer: the caller cannot know it happened).
 */
export async function startFaultProxy(target: string, seed = 7): Promise<FaultProxy> {
  const random = mulberry32(seed);
  const counts: FaultCounts = { passed: 0, throttled: 0, dropped: 0, refused: 0 };
  let shares = { throttle: 0, drop: 0 };
  let down = new Set<string>();
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      // SigV4: Credential=<key>/<date>/<region>/<service>/aws4_request
      const region = /Credential=[^/]+\/\d+\/([^/]+)\//.exec(
        String(req.headers.authorization ?? ''),
      )?.[1];
      if (region && down.has(region)) {
        counts.refused += 1;
        req.socket.destroy();
        return;
      }
      const roll = random();
      const control = req.url?.startsWith('/moto-api');
      if (!control && roll < shares.throttle) {
        counts.throttled += 1;
        throttle(req, res);
        return;
      }
      const drop = !control && roll < shares.throttle + shares.drop;
      const forwarded = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          const body: Buffer[] = [];
          answer.on('data', (c: Buffer) => body.push(c));
          answer.on('end', () => {
            if (drop) {
              counts.dropped += 1;
              req.socket.destroy();
              return;
            }
            counts.passed += 1;
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            res.end(Buffer.concat(body));
          });
        },
      );
      forwarded.on('error', () => req.socket.destroy());
      forwarded.end(Buffer.concat(chunks));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    counts,
    faults(throttleShare, dropShare) {
      shares = { throttle: throttleShare, drop: dropShare };
    },
    unreachable(regions) {
      down = new Set(regions);
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
