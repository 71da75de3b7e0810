import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { definition as advanceSnapshots } from '../../functions/advance-snapshots.js';
import { clientIn } from '../../shared/aws/clients.js';
import type { RateLimiter } from '../../shared/aws/rate-limiter.js';
import type { JobEnvironment } from '../../shared/jobs/job-definition.js';
import { partitionOf } from '../../shared/naming/slot.js';
import { parseSchedule } from '../../shared/policy/schedule-expression.js';
import type { PassResult } from '../../shared/snapshots/pipeline-pass.js';
import type { ClockView, LocalAws } from './local-aws.js';

/**
 * The pipeline delivered in the local AWS as the stacks deploy it: a rule in each region sends
 * RDS's snapshot events to the pipeline's queue in the primary region (the DR region's by way
 * of the primary region's bus), and each batch on the queue is one pass of the pipeline, run
 * here, one at a time, as Lambda's event source mapping runs the deployed one. The sweep runs on
 * the policy's schedule of the local clock. Time is the local AWS's: `settle` moves its clock to
 * each next thing RDS finishes and delivers what follows, so a day of AWS's pace takes moments.
 */
export interface LocalPipeline {
  /** Every message on the queue now, as passes (one per batch of up to `batchSize`). */
  drain(): Promise<PassResult[]>;
  /** One pass as the sweep runs it. */
  sweep(): Promise<PassResult>;
  /**
   * Moves the local clock on, to each next thing RDS finishes (and each sweep due), delivering
   * what follows, until nothing is pending or in the pipeline, or `maxSeconds` of the clock have
   * passed. The passes see the time `from` plus the clock's time since the call.
   */
  settle(options?: { readonly maxSeconds?: number }): Promise<PassResult[]>;
  /** The time the passes see now. */
  now(): Date;
  /** Every pass so far, with the time it saw and what started it. */
  readonly history: readonly PassEntry[];
  /** From now on, the passes see `time` plus the clock's time since this call. */
  setNow(time: Date): Promise<void>;
}

const QUEUE = 'lifeboat-advance-snapshots-local';
const RULE = 'lifeboat-snapshot-events';

/** Sets up the queue and the rules in the local AWS, and returns the delivery. */
export interface LocalPipelineOptions {
  /** Messages per pass, as the event source mapping's batch size (default 100). */
  readonly batchSize?: number;
  /** The time the first pass sees (default: now). */
  readonly start?: Date;
  /** Each pass's limiter, instead of the policy's (a benchmark's, which models the time). */
  readonly limiter?: () => RateLimiter;
  /** Called after each pass, before the next: to look at what the local AWS holds then. */
  readonly afterPass?: (entry: PassEntry) => Promise<void> | void;
}

/** One pass of the local pipeline: the time it saw, what started it, what it did. */
export interface PassEntry {
  readonly at: Date;
  readonly by: 'events' | 'sweep';
  readonly pass: PassResult;
}

export async function localPipeline(
  aws: LocalAws,
  env: JobEnvironment,
  options: LocalPipelineOptions = {},
): Promise<LocalPipeline> {
  const policy = env.policy();
  const { primary, dr } = policy.regions;
  const account = env.account;
  const sqs = clientIn(SQSClient, primary);
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: QUEUE }))).QueueUrl ?? '';
  const arn = `arn:${partitionOf(primary)}:sqs:${primary}:${account}:${QUEUE}`;
  const pattern = JSON.stringify(advanceSnapshots.queue?.pattern() ?? {});
  const route = async (region: string, target: string) => {
    const bus = clientIn(EventBridgeClient, region);
    await bus.send(new PutRuleCommand({ Name: RULE, EventPattern: pattern }));
    await bus.send(
      new PutTargetsCommand({ Rule: RULE, Targets: [{ Id: 'pipeline', Arn: target }] }),
    );
  };
  await route(primary, arn);
  await route(dr, `arn:${partitionOf(dr)}:events:${primary}:${account}:event-bus/default`);

  const sweepSchedule = parseSchedule(policy.snapshots.sweep, policy.timeZone);
  const sweepEvery = sweepSchedule.kind === 'rate' ? sweepSchedule.periodMs / 1000 : 300;
  let base = { time: (options.start ?? new Date()).getTime(), clock: await clockSeconds(aws) };
  let lastSweep = base.clock;
  let clockNow = base.clock;
  const now = () => new Date(base.time + (clockNow - base.clock) * 1000);
  const at = (): JobEnvironment => ({ ...env, now });
  const batchSize = options.batchSize ?? advanceSnapshots.queue?.batchSize ?? 100;

  const receive = async (most = batchSize) => {
    const bodies: { body: string; handle: string }[] = [];
    for (;;) {
      const out = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: url,
          MaxNumberOfMessages: Math.max(1, Math.min(10, most - bodies.length)),
          WaitTimeSeconds: 0,
        }),
      );
      const messages = out.Messages ?? [];
      for (const m of messages) bodies.push({ body: m.Body ?? '', handle: m.ReceiptHandle ?? '' });
      if (messages.length === 0 || bodies.length >= most) return bodies;
    }
  };
  const take = async (handles: readonly string[]) => {
    for (let i = 0; i < handles.length; i += 10) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: handles.slice(i, i + 10).map((h, n) => ({ Id: String(n), ReceiptHandle: h })),
        }),
      );
    }
  };
  const history: PassEntry[] = [];
  const deps = () => {
    const wired = advanceSnapshots.wire(at());
    return options.limiter ? { ...wired, limiter: options.limiter() } : wired;
  };
  const record = async (by: PassEntry['by'], pass: PassResult) => {
    const entry = { at: now(), by, pass };
    history.push(entry);
    await options.afterPass?.(entry);
    // The hook may have moved the clock on (a pass that took time).
    clockNow = await clockSeconds(aws);
  };
  /**
   * Every message on the queue, a batch per pass. Within `settle`, as Lambda does, a batch is
   * gathered for the feed's window (on the local clock) before it runs, unless it fills.
   */
  const drainQueue = async (gather: boolean): Promise<PassResult[]> => {
    const passes: PassResult[] = [];
    const feed = advanceSnapshots.queue;
    if (!feed) return passes;
    for (;;) {
      const batch = await receive();
      if (batch.length === 0) return passes;
      if (gather && batch.length < batchSize && feed.batchingWindowSeconds > 0) {
        await aws.clock.advance(feed.batchingWindowSeconds);
        batch.push(...(await receive(batchSize - batch.length)));
      }
      clockNow = await clockSeconds(aws);
      const pass = await feed.consume(
        deps(),
        policy,
        batch.map((b) => b.body),
      );
      await record('events', pass);
      passes.push(pass);
      await take(batch.map((b) => b.handle));
    }
  };
  const pipeline: LocalPipeline = {
    now,
    history,
    async setNow(time) {
      clockNow = await clockSeconds(aws);
      base = { time: time.getTime(), clock: clockNow };
    },
    async drain() {
      return drainQueue(false);
    },
    async sweep() {
      clockNow = await clockSeconds(aws);
      lastSweep = clockNow;
      const pass = await advanceSnapshots.run(deps(), policy, now());
      await record('sweep', pass);
      return pass;
    },
    async settle(settleOptions = {}) {
      const limit = clockNow + (settleOptions.maxSeconds ?? 86_400);
      const passes: PassResult[] = [...(await drainQueue(true))];
      for (;;) {
        const view = await aws.clock.read();
        clockNow = clockOf(view);
        if (view.nextInSeconds === null) {
          // Nothing is settling: one sweep sees what is left; when it does nothing, all is done.
          const last = await pipeline.sweep();
          passes.push(last);
          if (!didSomething(last)) return passes;
          continue;
        }
        const untilSweep = Math.max(0, lastSweep + sweepEvery - clockNow);
        const step = Math.min(view.nextInSeconds, untilSweep);
        if (clockNow + step > limit) return passes;
        clockNow = clockOf(await aws.clock.advance(step));
        passes.push(...(await drainQueue(true)));
        if (clockNow >= lastSweep + sweepEvery) passes.push(await pipeline.sweep());
      }
    },
  };
  return pipeline;
}

/** Whether a pass took any step: a snapshot, a copy, a settled slot, a record amended. */
export function didSomething(pass: PassResult): boolean {
  return (
    pass.created.length > 0 ||
    pass.copies.some((c) => c.outcome === 'started') ||
    pass.vault.some((c) => c.outcome === 'started') ||
    pass.settled.length > 0 ||
    pass.amended.length > 0
  );
}

/** The local clock as seconds since the epoch. */
async function clockSeconds(aws: LocalAws): Promise<number> {
  return clockOf(await aws.clock.read());
}

function clockOf(view: ClockView): number {
  return Date.parse(view.now) / 1000;
}
