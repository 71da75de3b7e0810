import * as z from 'zod/mini';
import '../validation/zod.js';
import { InvalidEventError, parseEvent } from '../validation/parse-event.js';

/**
 * RDS's snapshot events, as EventBridge delivers them to the pipeline's queue: the one place
 * that says which events the stacks' rules send, and how the pipeline reads them. RDS sends them
 * best effort (late, twice or never): an event only says when to look; what a pass does comes
 * from what RDS holds.
 */

export const SNAPSHOT_EVENT_TYPES = ['RDS DB Snapshot Event', 'RDS DB Cluster Snapshot Event'];

/**
 * The EventBridge pattern of the events that start a pass: RDS's snapshot events about a
 * snapshot with a Lifeboat name. The name only spares the pipeline other snapshots' events; a
 * pass decides from RDS's own facts whether a snapshot is Lifeboat's.
 */
export function snapshotEventPattern(): Record<string, unknown> {
  return {
    source: ['aws.rds'],
    'detail-type': SNAPSHOT_EVENT_TYPES,
    detail: { SourceIdentifier: [{ prefix: 'lifeboat-' }] },
  };
}

// The envelope and detail carry more than this (AWS adds fields over time): only what a pass
// reads is required, and nothing else is kept.
const SnapshotEventSchema = z.object({
  source: z.literal('aws.rds', 'must be aws.rds'),
  'detail-type': z.enum(
    SNAPSHOT_EVENT_TYPES as [string, ...string[]],
    `must be one of ${SNAPSHOT_EVENT_TYPES.join(', ')}`,
  ),
  region: z.string('must be a region'),
  detail: z.object({
    SourceArn: z.string('must be the snapshot ARN'),
    SourceIdentifier: z.string('must be the snapshot identifier'),
    EventID: z.optional(z.string()),
  }),
});

/** What a pass takes from one of RDS's snapshot events. */
export interface SnapshotEvent {
  readonly region: string;
  readonly kind: 'instance' | 'cluster';
  readonly arn: string;
  readonly id: string;
}

/**
 * The snapshot an event is about, or the reason it is no event a pass reads (naming the bad
 * field): a message on the queue that is not one of RDS's snapshot events changes nothing.
 */
export function parseSnapshotEvent(body: unknown): SnapshotEvent {
  let json = body;
  if (typeof body === 'string') {
    try {
      json = JSON.parse(body);
    } catch {
      throw new InvalidEventError('invalid event: (event): is not JSON');
    }
  }
  const event = parseEvent(SnapshotEventSchema, json);
  return {
    region: event.region,
    kind: event['detail-type'] === 'RDS DB Cluster Snapshot Event' ? 'cluster' : 'instance',
    arn: event.detail.SourceArn,
    id: event.detail.SourceIdentifier.toLowerCase(),
  };
}
