import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('sls package', () => {
  it('fails on a bad policy, naming each bad field, and produces no package', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'lifeboat-package-'));
    const policy = join(dir, 'bad.policy.yml');
    writeFileSync(
      policy,
      readFileSync('lifeboat.policy.yml', 'utf8')
        .replace('version: 1', 'version: 7')
        .replace('daily: 7', 'daily: lots'),
    );
    const out = join(dir, 'package');

    // Act
    const result = spawnSync('node_modules/.bin/sls', ['package', '--package', out], {
      timeout: 300_000,
      encoding: 'utf8',
      env: {
        ...process.env,
        LIFEBOAT_POLICY: policy,
        AWS_ACCESS_KEY_ID: '',
        AWS_SECRET_ACCESS_KEY: '',
      },
    });

    // Assess
    expect(result.status).not.toBe(0);
    const output = result.stdout + result.stderr;
    expect(output).toContain('version: must be 1');
    expect(output).toContain('retention.primary.daily: must be a whole number of days');
    // The user's mistake, not Lifeboat's: no stack trace.
    expect(output).not.toMatch(/\bat \S+ \(?\/\S+:\d+:\d+\)?/);
    expect(output).not.toContain('parse-policy.ts');
    expect(() => readFileSync(join(out, 'cloudformation-template-update-stack.json'))).toThrow();
  });

  it('packages one stack without removing the other’s package', () => {
    // Prepare: npm test packaged both stacks before the tests
    const primary = '.serverless-primary/cloudformation-template-update-stack.json';
    const before = readFileSync(primary, 'utf8');
    const out = join(mkdtempSync(join(tmpdir(), 'lifeboat-package-')), 'dr');

    // Act: the DR stack again, elsewhere
    const result = spawnSync(
      'node_modules/.bin/sls',
      [
        'package',
        '--region',
        'eu-west-1',
        '--param=dataKeyArn=arn:aws:kms:eu-central-1:111122223333:key/mrk-00000000000000000000000000000001',
        '--param=manifestKeyArn=arn:aws:kms:eu-central-1:111122223333:key/mrk-00000000000000000000000000000002',
        '--package',
        out,
      ],
      {
        encoding: 'utf8',
        timeout: 300_000,
        env: {
          ...process.env,
          AWS_ACCESS_KEY_ID: '',
          AWS_SECRET_ACCESS_KEY: '',
          // Its own build folder: another packaging of this checkout may be running.
          LIFEBOAT_BUILD_FOLDER: `.esbuild-test-${process.pid}`,
        },
      },
    );

    // Assess
    expect(result.status, `${result.error ?? ''}${result.stdout}${result.stderr}`).toBe(0);
    expect(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8')).toContain(
      'RegionalFailoverStateMachine',
    );
    expect(readFileSync(primary, 'utf8')).toBe(before);
  });
});
