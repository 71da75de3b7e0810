import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';

/**
 * The suite leaves nothing in the system's temporary directory: what is there after the last
 * test file that was not there before the first fails the run, named.
 */
const VITEST_OWN = /^[A-Za-z0-9_-]{21}$/;
const OTHERS = /^lifeboat-(test|work)-/;

export default function setup(): () => void {
  const dir = tmpdir();
  const before = new Set(readdirSync(dir));
  return () => {
    // Vitest's own file for the run (a 21-character random name), which it removes as it exits,
    // and the working roots of suites and packaging running beside this one (each removes its
    // own: setup.ts, with-temp.mjs).
    const left = readdirSync(dir).filter(
      (name) => !before.has(name) && !VITEST_OWN.test(name) && !OTHERS.test(name),
    );
    if (left.length > 0) {
      // An error here is reported, but does not fail the run by itself.
      process.exitCode = 1;
      throw new Error(
        `the tests left ${left.length} entries in ${dir}: ${left.slice(0, 10).join(', ')}`,
      );
    }
  };
}
