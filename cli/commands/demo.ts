import { runDemo } from '../../local/demo/run-demo.js';
import type { Io } from '../../terminal/output.js';
import { EXIT, UsageError } from '../cli-errors.js';

/**
 * `lifeboat demo`: starts a local AWS (moto), seeds a demo account, and runs Lifeboat's jobs
 * against it. Touches nothing outside the moto server it starts and stops.
 */
export async function demoCommand(options: { days?: string }, io: Io): Promise<number> {
  const days = Number(options.days ?? 14);
  if (!Number.isInteger(days) || days < 1 || days > 400) {
    throw new UsageError(`--days ${options.days}: must be a whole number from 1 to 400`);
  }
  await runDemo(days, io);
  return EXIT.ok;
}
