import { describe, expect, it } from 'vitest';
import { parseScheduledEvent } from '../../shared/jobs/scheduled-event.js';
import { InvalidEventError } from '../../shared/validation/parse-event.js';
import { table } from '../../terminal/output.js';

const NOW = new Date('2026-11-21T04:00:00Z');

describe('scheduled events', () => {
  it('accepts a tick within the lookback, and one slightly ahead of the clock', () => {
    // Act
    const late = parseScheduledEvent({ scheduledTime: '2026-11-15T03:00:00Z' }, '7d', NOW);
    const early = parseScheduledEvent({ scheduledTime: '2026-11-21T04:04:00Z' }, '7d', NOW);

    // Assess
    expect(late.toISOString()).toBe('2026-11-15T03:00:00.000Z');
    expect(early.toISOString()).toBe('2026-11-21T04:04:00.000Z');
  });

  it.each([
    ['1970', '1970-01-01T00:00:00Z', "is older than the policy's verification lookback (7d)"],
    ['year 1', '0001-01-01T00:00:00Z', "is older than the policy's verification lookback (7d)"],
    ['last month', '2026-10-21T03:00:00Z', "is older than the policy's verification lookback (7d)"],
    ['an hour ahead', '2026-11-21T05:00:00Z', 'is in the future'],
  ])('refuses a tick from %s, naming why', (_, scheduledTime, reason) => {
    // Act
    const act = () => parseScheduledEvent({ scheduledTime }, '7d', NOW);

    // Assess
    expect(act).toThrow(InvalidEventError);
    expect(act).toThrow(`invalid event: scheduledTime: ${reason}`);
  });
});

describe('tables', () => {
  it('prints 200,000 rows without running out of stack', () => {
    // Prepare
    const rows = Array.from({ length: 200_000 }, (_, i) => [`db-${i}`, 'created']);

    // Act
    const text = table(['TARGET', 'OUTCOME'], rows);

    // Assess
    expect(text.split('\n')).toHaveLength(200_001);
    expect(text.split('\n')[200_000]).toBe('db-199999  created');
  });
});
