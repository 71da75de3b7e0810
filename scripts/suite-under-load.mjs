// Runs the test suite twice at once on this machine, as a busy CI machine would, and reports
// whether both runs pass and how long each took. Run after `npm test` (which builds and packages
// what the tests read): node scripts/suite-under-load.mjs
import { spawn } from 'node:child_process';

const run = (n) =>
  new Promise((resolve) => {
    const started = Date.now();
    const child = spawn('npx', ['vitest', 'run', '--reporter=dot'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
    });
    child.stderr.on('data', (chunk) => {
      out += chunk;
    });
    child.on('exit', (code) => {
      const tests = /Tests\s+(.*)/.exec(out)?.[1] ?? '';
      resolve({ n, code, seconds: (Date.now() - started) / 1000, tests, out });
    });
  });

const results = await Promise.all([run(1), run(2)]);
for (const r of results) {
  console.log(`run ${r.n}: exit ${r.code} in ${r.seconds.toFixed(0)} s, ${r.tests.trim()}`);
  if (r.code !== 0) console.log(r.out.slice(-4000));
}
process.exitCode = results.every((r) => r.code === 0) ? 0 : 1;
