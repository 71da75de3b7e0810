import { AsyncLocalStorage } from 'node:async_hooks';
import { Client } from '@smithy/core/client';

/** One AWS call as the SDK made it: which client, which operation, with what input. */
export interface RecordedCall {
  /** The role the code making the call runs as (a logical id in the template). */
  readonly role: string | undefined;
  readonly service: string;
  readonly operation: string;
  readonly region: string;
  readonly input: Record<string, unknown>;
  /** The access key the call was signed with: temporary (ASIA...) for an assumed role's. */
  readonly accessKeyId: string;
}

type Send = (this: unknown, ...args: unknown[]) => unknown;

const roleOfCaller = new AsyncLocalStorage<string>();
const recorded: RecordedCall[] = [];
let original: Send | undefined;
const prototype = Client.prototype as unknown as { send: Send };

/**
 * Records every call any SDK client in this process sends, from now until `stop()`, with the role
 * the calling code runs as (set with `as(role, work)`). Calls made outside `as` are recorded with
 * no role: the test's own seeding and tampering.
 */
export function recordAwsCalls() {
  if (!original) {
    original = prototype.send;
    const send = original;
    prototype.send = function (this: unknown, ...args: unknown[]) {
      const [command] = args as [{ constructor: { name: string }; input: object }];
      const config = (this as { config: unknown }).config as {
        serviceId?: string;
        region?: () => Promise<string> | string;
        credentials?: () => Promise<{ accessKeyId?: string }>;
      };
      const role = roleOfCaller.getStore();
      const input = { ...(command.input as Record<string, unknown>) };
      const operation = command.constructor.name.replace(/Command$/, '');
      // Recorded in the order the calls are sent, completed when region and key are known.
      const entry = { role, service: config.serviceId ?? 'unknown', operation, input };
      const call = Promise.all([
        typeof config.region === 'function' ? config.region() : config.region,
        config.credentials?.().catch(() => undefined),
      ]).then(([region, identity]) => {
        recorded.push({
          ...entry,
          region: String(region ?? ''),
          accessKeyId: identity?.accessKeyId ?? '',
        });
      });
      void call;
      return send.apply(this, args);
    };
  }
  return {
    calls: recorded,
    /** Runs `work` as `role`: every call it makes is that role's. */
    as<T>(role: string, work: () => Promise<T>): Promise<T> {
      return roleOfCaller.run(role, work);
    },
    stop() {
      if (original) prototype.send = original;
      original = undefined;
      recorded.length = 0;
    },
  };
}
