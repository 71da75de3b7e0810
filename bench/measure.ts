import { performance } from 'node:perf_hooks';
import { type LocalAws, type LocalAwsOptions, startLocalAws } from '../local/aws/local-aws.js';
import { forgetClients } from '../shared/aws/clients.js';

/**
 * A local AWS for one bench section, which the SDK reaches through AWS_ENDPOINT_URL with dummy
 * credentials (and `region`, when given). Clients made for an earlier section's local AWS, gone
 * by now, are forgotten. Instant unless `timing` says how long RDS's work takes.
 */
export async function benchAws(
  region?: string,
  timing: LocalAwsOptions['timing'] = {
    instant: 'the sections count calls and time work the jobs do on resources at once',
  },
): Promise<LocalAws> {
  const aws = await startLocalAws({ timing });
  forgetClients();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...(region ? { AWS_REGION: region } : {}),
  });
  return aws;
}

/** Median wall time of `runs` calls, in milliseconds, after one warm-up call. */
export async function medianMs(
  runs: number,
  fn: () => unknown | Promise<unknown>,
): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return median(times);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** A figure against its target, e.g. `3.1x (target <= 5x) ok`. */
export function verdict(value: number, target: number, unit: string, digits = 1): string {
  const ok = value <= target ? 'within target' : 'OVER TARGET';
  return `${value.toFixed(digits)}${unit} (target <= ${target}${unit}) ${ok}`;
}

export /** Counts the commands each client sends, by name, from now on. */
function countCalls(clients: readonly { middlewareStack: { add: (...args: never[]) => void } }[]) {
  const counts = new Map<string, number>();
  for (const client of clients) {
    client.middlewareStack.add(
      ((next: (args: unknown) => unknown, context: { commandName?: string }) =>
        (args: { input?: { Key?: string } }) => {
          const name = context.commandName ?? 'unknown';
          counts.set(name, (counts.get(name) ?? 0) + 1);
          // Reads of records and reads of what they list, told apart by the key's top folder.
          if (args.input?.Key) {
            const folder = `${name}:${args.input.Key.split('/')[0]}`;
            counts.set(folder, (counts.get(folder) ?? 0) + 1);
          }
          return next(args);
        }) as never,
      { step: 'initialize', name: `benchCount${Math.random()}` } as never,
    );
  }
  return {
    get: (name: string) => counts.get(name) ?? 0,
    /** Every command counted (not the per-folder counts of S3 keys). */
    total: () =>
      [...counts].filter(([name]) => !name.includes(':')).reduce((sum, [, n]) => sum + n, 0),
    reset: () => counts.clear(),
  };
}
