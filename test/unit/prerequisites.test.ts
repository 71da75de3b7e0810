import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// The test command's first step: what the suite needs beyond npm, named with the one command
// that installs it, before anything runs.

const empty = mkdtempSync(join(tmpdir(), 'lifeboat-prerequisites-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

function check(env: Record<string, string>) {
  const run = spawnSync('/bin/bash', ['scripts/prerequisites.sh'], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { status: run.status, stderr: run.stderr };
}

describe('the test command’s prerequisites', () => {
  it('stops at once on a machine without the Debian packages where it may not install, with the one command for them all', () => {
    // Prepare: a user who is not root, without sudo, on a PATH holding none of the tools.
    const bin = mkdtempSync(join(empty, 'bin-'));
    writeFileSync(join(bin, 'id'), '#!/bin/sh\necho 1000\n');
    chmodSync(join(bin, 'id'), 0o755);
    const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], {
      encoding: 'utf8',
    });

    // Act
    const run = check({ PATH: bin, MOTO_PYTHON: python.stdout.trim() });

    // Assess
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(
      'The tests cannot run: this machine lacks unzip openssl mariadb-server chromium cfn-lint.',
    );
    expect(run.stderr).toContain(
      'sudo apt-get update && sudo apt-get install -y unzip openssl mariadb-server chromium && pip install "cfn-lint"',
    );
  });

  it('stops at once, naming moto and cfn-lint and the command that installs them, when Python lacks them', () => {
    // Act
    const run = check({ MOTO_PYTHON: '/bin/false', PATH: `/usr/bin:/bin` });

    // Assess
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('The tests cannot run: this machine lacks moto[server]');
    expect(run.stderr).toContain('pip install "moto[server]"');
  });

  it('names a MariaDB directory or Chromium given in the environment that holds no server', () => {
    // Act
    const mariadb = check({ LIFEBOAT_MARIADB_BIN: empty });
    const chromium = check({ LIFEBOAT_CHROMIUM: join(empty, 'chromium') });

    // Assess
    expect(mariadb.status).toBe(1);
    expect(mariadb.stderr).toContain(`LIFEBOAT_MARIADB_BIN=${empty} holds no mariadbd`);
    expect(chromium.status).toBe(1);
    expect(chromium.stderr).toContain('is not an executable');
  });
});
