import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

// Packaging and the bench run under scripts/with-temp.mjs: their work goes in a directory of
// their own, removed when they end, whatever their end.

function run(script: string) {
  return spawnSync('node', ['scripts/with-temp.mjs', 'node', '-e', script], { encoding: 'utf8' });
}

const MAKE = `
  const { mkdtempSync, writeFileSync } = require('node:fs');
  const { tmpdir } = require('node:os');
  const { join } = require('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'work-'));
  writeFileSync(join(dir, 'bundle.zip'), 'x');
  console.log(dir);
`;

describe('a command run with a temporary directory of its own', () => {
  it('works in a directory of its own under the temporary directory, removed when it ends', () => {
    // Act
    const result = run(MAKE);

    // Assess
    const made = result.stdout.trim();
    expect(result.status).toBe(0);
    expect(dirname(dirname(made))).toBe(tmpdir());
    expect(existsSync(made)).toBe(false);
    expect(existsSync(dirname(made))).toBe(false);
  });

  it('removes it when the command fails too, and passes its exit code on', () => {
    // Act
    const result = run(`${MAKE}; process.exit(4);`);

    // Assess
    expect(result.status).toBe(4);
    expect(existsSync(dirname(result.stdout.trim()))).toBe(false);
  });
});
