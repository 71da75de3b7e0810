import { RDSClient } from '@aws-sdk/client-rds';

/** An RDS client bound to the region it talks to. */
export interface RegionalRds {
  readonly region: string;
  readonly client: RDSClient;
}

/** Route 53's API is global and answers in us-east-1, whatever the region. */
export const ROUTE53_REGION = 'us-east-1';

/** Client settings every Lifeboat client shares. */
export interface ClientConfig {
  region: string;
  retryMode: 'adaptive';
  maxAttempts: number;
}

// Throttling is expected (RDS allows 12 requests/s per account and region, Route 53 five), so
// the SDK's adaptive mode slows down client-side as well as retrying.
const RETRY = { retryMode: 'adaptive', maxAttempts: 6 } as const;

const cache = new Map<new (config: ClientConfig) => unknown, Map<string, unknown>>();

/**
 * One client of a kind per region for the life of the process. Takes the client class, so a
 * bundle holds only the clients its function uses.
 *
 * @example const sns = clientIn(SNSClient, 'eu-west-1');
 */
export function clientIn<C>(Client: new (config: ClientConfig) => C, region: string): C {
  let byRegion = cache.get(Client);
  if (!byRegion) {
    byRegion = new Map();
    cache.set(Client, byRegion);
  }
  let client = byRegion.get(region) as C | undefined;
  if (!client) {
    client = new Client({ region, ...RETRY });
    byRegion.set(region, client);
  }
  return client;
}

/** The RDS client of a region, bound to its region name. */
export function rdsIn(region: string): RegionalRds {
  return { region, client: clientIn(RDSClient, region) };
}

/**
 * Forgets every client made so far, so the next ones read the environment again: for a process
 * that points the SDK at another endpoint (one local AWS after another).
 */
export function forgetClients(): void {
  for (const byRegion of cache.values()) {
    for (const client of byRegion.values()) (client as { destroy?: () => void }).destroy?.();
  }
  cache.clear();
}
