import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { progressOn } from '../../terminal/progress.js';

function stream(tty: boolean) {
  const s = new PassThrough() as PassThrough & { isTTY?: boolean };
  s.isTTY = tty;
  const written: string[] = [];
  s.on('data', (chunk: Buffer) => written.push(chunk.toString()));
  return { s, written };
}

describe('progress', () => {
  it('writes a timestamped line per change when not on a terminal', async () => {
    // Prepare
    let now = Date.parse('2026-11-28T04:00:00Z');
    const { s, written } = stream(false);
    const progress = progressOn(s, () => now);

    // Act
    progress.step('6. restore drill');
    now += 1500;
    progress.state('PollRestore');
    progress.state('PollRestore');
    now += 2000;
    progress.state('SmokeChecks');
    progress.done();
    await new Promise((r) => setImmediate(r));

    // Assess
    expect(written.join('')).toBe(
      [
        '04:00:00 6. restore drill',
        '04:00:01 6. restore drill: PollRestore (1.5s)',
        '04:00:03 6. restore drill: SmokeChecks (3.5s)',
        '',
      ].join('\n'),
    );
  });

  it('keeps one live line on a terminal, with the time since the step began, and clears it', async () => {
    // Prepare
    let now = 0;
    const { s, written } = stream(true);
    const progress = progressOn(s, () => now);

    // Act
    progress.step('following execution');
    now = 12_300;
    progress.state('RUNNING in WaitForRestore');
    progress.done();
    await new Promise((r) => setImmediate(r));

    // Assess
    expect(written).toEqual([
      '\r\x1b[2Kfollowing execution (0.0s)',
      '\r\x1b[2Kfollowing execution: RUNNING in WaitForRestore (12.3s)',
      '\r\x1b[2K',
    ]);
    expect(written.join('')).not.toContain('\n');
  });
});
