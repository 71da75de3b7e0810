import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { median, verdict } from './measure.js';

const ROOT = resolve(import.meta.dirname, '..');
const RUNS = 10;

/** Wall time of one fresh `lifeboat` process, in milliseconds; fails loudly when it fails. */
function timed(args: readonly string[]): number {
  const start = performance.now();
  const result = spawnSync(process.execPath, [join(ROOT, 'bin/lifeboat.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  const ms = performance.now() - start;
  if (result.status !== 0) {
    throw new Error(`lifeboat ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return ms;
}

/**
 * How fast the built CLI starts: `lifeboat --help` and `lifeboat validate` on the shipped
 * policy, median of 10 fresh processes each (one warm-up run first, for the file cache).
 */
export async function benchCliStart(): Promise<string[]> {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) {
    return ['CLI start: not built (run npm run build)'];
  }
  const measure = (args: readonly string[]) => {
    timed(args);
    return median(Array.from({ length: RUNS }, () => timed(args)));
  };
  const help = measure(['--help']);
  const validate = measure(['validate', '--policy', 'lifeboat.policy.yml']);
  return [
    `CLI start (built JavaScript, median of ${RUNS} fresh processes)`,
    `  lifeboat --help      ${verdict(help, 300, ' ms', 0)}`,
    `  lifeboat validate    ${verdict(validate, 600, ' ms', 0)}`,
  ];
}
