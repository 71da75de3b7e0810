import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDuration, subtractDuration } from '../../shared/policy/duration.js';
import { PolicyError } from '../../shared/policy/errors.js';
import { loadPackagedPolicy } from '../../shared/policy/parse-policy.js';
import { loadPolicyFile, parsePolicyText } from '../../shared/policy/policy-file.js';
import {
  firesBetween,
  parseSchedule,
  scheduleExpressionProblem,
} from '../../shared/policy/schedule-expression.js';
import { FIXTURE_POLICY_FILE, packagedPolicyFile } from '../support/policy.js';

const VALID = readFileSync(FIXTURE_POLICY_FILE, 'utf8');

function problems(text: string): string[] {
  try {
    parsePolicyText(text, 'policy.yml');
  } catch (error) {
    if (error instanceof PolicyError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('policy validation', () => {
  it('accepts the shipped example and the test policy, filling in defaults', () => {
    // Act
    const example = loadPolicyFile('lifeboat.policy.yml');
    const fixture = loadPolicyFile(FIXTURE_POLICY_FILE);

    // Assess
    expect(example.name).toBe('acme-prod');
    expect(fixture.snapshots.copyCaps).toEqual({ instance: 20, cluster: 5 });
    expect(fixture.snapshots.quotas).toEqual({ instanceSnapshots: 100, clusterSnapshots: 100 });
    expect(fixture.retention.dr).toMatchObject({ last: 0, daily: 3, monthly: 2, minimumAge: '1d' });
    expect(fixture.backupBucket.objectLock).toEqual({ mode: 'GOVERNANCE', days: 35 });
  });

  it.each([
    ['a wrong version', ['version: 1', 'version: 2'], 'version: must be 1'],
    [
      'a name with capitals',
      ['name: test-policy', 'name: Test_Policy'],
      'name: must be 2-32 lowercase letters',
    ],
    [
      'an unknown time zone',
      ['timeZone: Europe/Berlin', 'timeZone: Europe/Atlantis'],
      'timeZone: must be an IANA time zone',
    ],
    [
      'the same region twice',
      ['dr: eu-west-1', 'dr: eu-central-1'],
      'regions.dr: the DR region must differ',
    ],
    [
      'a malformed region',
      ['primary: eu-central-1', 'primary: frankfurt'],
      'regions.primary: must be an AWS region name',
    ],
    [
      'a bad identifier',
      ['identifier: orders-db', 'identifier: orders--db'],
      'targets[0].identifier: must be 1-63 letters',
    ],
    [
      'an unknown kind',
      ['kind: aurora-cluster', 'kind: dynamodb-table'],
      'targets[1].kind: must be rds-instance or aurora-cluster',
    ],
    [
      'identifier and tags together',
      ['identifier: billing', 'identifier: billing\n    tags: { a: b }'],
      'targets[1]: give exactly one of identifier',
    ],
    [
      'a five-field cron',
      ['cron(0 3 * * ? *)', 'cron(0 3 * * *)'],
      'snapshots.schedule: cron needs 6 fields',
    ],
    [
      'a cron with both day fields',
      ['cron(0 3 * * ? *)', 'cron(0 3 * * 1 *)'],
      'exactly one of day-of-month and day-of-week',
    ],
    [
      'a KMS key outside the DR region',
      ['arn:aws:kms:eu-west-1:', 'arn:aws:kms:us-east-1:'],
      'snapshots.drKmsKeyArn: is in us-east-1',
    ],
    [
      'a KMS key that is not an ARN',
      [
        'drKmsKeyArn: arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555',
        'drKmsKeyArn: my-key',
      ],
      'snapshots.drKmsKeyArn: must be a KMS key ARN',
    ],
    [
      'a copy cap above the AWS limit',
      ['drKmsKeyArn:', 'copyCaps: { cluster: 9 }\n  drKmsKeyArn:'],
      'snapshots.copyCaps.cluster: must be 1-5',
    ],
    [
      'too many RDS requests per second',
      ['rdsRequestsPerSecond: 12', 'rdsRequestsPerSecond: 50'],
      'rdsRequestsPerSecond: must be at most 12',
    ],
    [
      'a negative count',
      ['daily: 7', 'daily: -7'],
      'retention.primary.daily: must be 0 or more days',
    ],
    [
      'a fractional count',
      ['daily: 7', 'daily: 7.5'],
      'retention.primary.daily: must be a whole number of days',
    ],
    [
      'a malformed duration',
      ['minimumAge: 1d\n  dr', 'minimumAge: one day\n  dr'],
      'retention.primary.minimumAge: must be a duration',
    ],
    [
      'a retention that keeps nothing',
      ['    daily: 3\n    monthly: 2\n', '    daily: 0\n'],
      'retention.dr: keeps nothing',
    ],
    [
      'a misspelt field',
      ['minimumAge: 1d\n  dr', 'minimumAge: 1d\n    montly: 3\n  dr'],
      'retention.primary.montly: is not a known field',
    ],
    ['a missing section', ['retention:', 'retired:'], 'retention: is required'],
    [
      'duplicate targets',
      [
        '- kind: rds-instance\n    tags:',
        '- kind: rds-instance\n    identifier: ORDERS-DB\n  - kind: rds-instance\n    tags:',
      ],
      'targets[2].identifier: names ORDERS-DB again (already targets[0])',
    ],
    ['broken YAML', ['targets:', 'targets: [\n'], 'YAML:'],
    [
      'a minimum age of centuries',
      ['minimumAge: 1d\n  dr', 'minimumAge: 300y\n  dr'],
      'retention.primary.minimumAge: must be at most 1y',
    ],
    [
      'a duration past what a date can hold',
      ['minimumAge: 1d\n  dr', 'within: 275000y\n    minimumAge: 1d\n  dr'],
      'retention.primary.within: must be at most 100y',
    ],
    [
      'a duration with more digits than any bound needs',
      ['minimumAge: 1d\n  dr', 'within: 99999999999999999999y\n    minimumAge: 1d\n  dr'],
      'retention.primary.within: must be a duration',
    ],
    [
      'a within of a thousand years',
      ['minimumAge: 1d\n  dr', 'within: 1000y\n    minimumAge: 1d\n  dr'],
      'retention.primary.within: must be at most 100y',
    ],
    [
      'a drill timeout of zero',
      ['timeout: 2h', 'timeout: 0h'],
      'drills.timeout: must be from 1h to 7d',
    ],
    [
      'a janitor that would delete drills in progress',
      ['leftoverAge: 1d', 'leftoverAge: 0h'],
      'drills.leftoverAge: must be from 1h to 30d',
    ],
    [
      'a request rate too slow to finish a run',
      ['rdsRequestsPerSecond: 12', 'rdsRequestsPerSecond: 0.01'],
      'rdsRequestsPerSecond: must be at least 1',
    ],
    [
      'a request rate that overflows a timer',
      ['rdsRequestsPerSecond: 12', 'rdsRequestsPerSecond: 1e-7'],
      'rdsRequestsPerSecond: must be at least 1',
    ],
    [
      'day 32 in a cron',
      ['cron(0 3 * * ? *)', 'cron(0 3 32 * ? *)'],
      'snapshots.schedule: cron day-of-month "32" invalid: 32 is out of range (1-31)',
    ],
    [
      'month 13 in a cron',
      ['cron(0 3 * * ? *)', 'cron(0 3 * 13 ? *)'],
      'snapshots.schedule: cron month "13" invalid: 13 is out of range (1-12)',
    ],
    [
      'weekday 9 in a cron',
      ['cron(0 3 * * ? *)', 'cron(0 3 ? * 9 *)'],
      'snapshots.schedule: cron day-of-week "9" invalid: 9 is out of range (1-7)',
    ],
    [
      'a cron that never fires',
      ['cron(0 3 * * ? *)', 'cron(0 3 30 2 ? *)'],
      'snapshots.schedule: cron never fires',
    ],
  ])('rejects %s, naming the field and the reason', (_, [from, to], expected) => {
    // Prepare
    const text = VALID.replace(from as string, to as string);
    expect(text).not.toBe(VALID);

    // Act
    const found = problems(text);

    // Assess
    expect(found.some((p) => p.includes(expected))).toBe(true);
  });

  it('refuses checks written for an engine the target is known not to run, and an unknown engine', () => {
    // Prepare
    const example = readFileSync('lifeboat.policy.yml', 'utf8');
    // The example says orders-db runs postgres.
    const knownEngine = example;
    const mysqlChecks = knownEngine.replace(
      '      database: orders\n',
      '      database: orders\n      engine: mysql\n',
    );
    const misspelled = example.replace(
      '      database: orders\n',
      '      database: orders\n      engine: mssql\n',
    );

    // Act
    const sameEngine = problems(
      knownEngine.replace(
        '      database: orders\n',
        '      database: orders\n      engine: aurora-postgresql\n',
      ),
    );
    const mismatch = problems(mysqlChecks);
    const unknown = problems(misspelled);

    // Assess
    expect(sameEngine).toEqual([]);
    expect(mismatch).toEqual([
      'drills.databases.orders-db.engine: is mysql, but targets[0] says orders-db runs postgres: the checks are written for another engine',
    ]);
    expect(unknown).toEqual([
      'drills.databases.orders-db.engine: must be an RDS engine: postgres, aurora-postgresql, mysql, mariadb, aurora-mysql',
    ]);
  });

  it('verifies the drill database’s certificate by default, and names what each TLS mode protects', () => {
    // Act
    const policy = parsePolicyText(
      readFileSync('lifeboat.policy.yml', 'utf8').replace(/^ {2}tls: .*$/m, ''),
      'lifeboat.policy.yml',
    );
    const bad = problems(
      readFileSync('lifeboat.policy.yml', 'utf8').replace(/^ {2}tls: .*$/m, '  tls: prefer'),
    );

    // Assess
    expect(policy.drills?.tls).toBe('verify-full');
    expect(bad).toEqual([
      'drills.tls: must be verify-full (encrypted, the server proven by the RDS certificate authorities), require (encrypted, unproven) or disable',
    ]);
  });

  it('knows regions from the SDK’s partition data, and blames a bad DR region on the region', () => {
    // Act
    const unknownDr = problems(VALID.replace('dr: eu-west-1', 'dr: eu-west-9'));
    const govCloud = problems(
      VALID.replace('primary: eu-central-1', 'primary: us-gov-west-1').replace(
        'dr: eu-west-1',
        'dr: us-gov-east-1',
      ),
    );

    // Assess
    expect(unknownDr).toEqual([
      'regions.dr: is not an AWS region (the AWS SDK’s partition data has no such region)',
    ]);
    expect(govCloud.some((p) => p.startsWith('regions.'))).toBe(false);
  });

  it('says in its own words what kind of value a field wants, and names a number in quotes', () => {
    // Act
    const found = problems(
      VALID.replace('primary: eu-central-1', 'primary: 5')
        .replace('rdsRequestsPerSecond: 12', 'rdsRequestsPerSecond: "12"')
        .replace(/targets:\n[\s\S]*?\nsnapshots:/, 'targets: orders-db\nsnapshots:'),
    );

    // Assess
    expect(found).toEqual([
      'regions.primary: must be text, not the number 5',
      'targets: must be a list of databases to protect',
      expect.stringMatching(
        /^rdsRequestsPerSecond: .* \(it is written in quotes, "12": write it without them\)$/,
      ),
    ]);
    expect(found.join('\n')).not.toContain('Invalid input');
  });

  it('refuses a drill of a database that is not a target', () => {
    // Prepare: only targets by identifier, so the policy knows them all
    const text = readFileSync('lifeboat.policy.yml', 'utf8').replace(
      '  - kind: rds-instance\n    tags:\n      backup: lifeboat\n',
      '',
    );

    // Act
    const found = problems(
      text.replace(
        '    orders-db:\n      database: orders',
        '    orderz-db:\n      database: orders',
      ),
    );

    // Assess
    expect(found).toEqual([
      "drills.databases.orderz-db: is not a target: drills restore the snapshots of the policy's targets, and no target is orderz-db (targets: orders-db, billing)",
    ]);
  });

  it('accepts an isolated vault account, defaulting to the DR region and its copy caps', () => {
    // Prepare
    const text = `${VALID}
vault:
  account: "222233334444"
  kmsKeyArn: arn:aws:kms:eu-west-1:222233334444:key/0b1c2d3e-aaaa-bbbb-cccc-000000000001
  roleArn: arn:aws:iam::222233334444:role/lifeboat-vault-writer
`;

    // Act
    const policy = parsePolicyText(text, 'policy.yml');

    // Assess
    expect(problems(text)).toEqual([]);
    expect(policy.vault).toMatchObject({
      account: '222233334444',
      copyCaps: { instance: 20, cluster: 5 },
      quotas: { instanceSnapshots: 100, clusterSnapshots: 100 },
    });
    expect(policy.vault?.region).toBeUndefined();
  });

  it('refuses a vault that is production, a key that is not a customer key of the vault, a missing role', () => {
    // Prepare
    const vault = (lines: string) => `${VALID}\nvault:\n${lines}`;

    // Act
    const same = problems(
      vault(
        '  account: "123456789012"\n  kmsKeyArn: arn:aws:kms:eu-west-1:123456789012:key/k1\n  roleArn: arn:aws:iam::123456789012:role/w\n',
      ),
    );
    const alias = problems(
      vault(
        '  account: "222233334444"\n  kmsKeyArn: arn:aws:kms:eu-west-1:222233334444:alias/aws/rds\n  roleArn: arn:aws:iam::222233334444:role/w\n',
      ),
    );
    const elsewhere = problems(
      vault(
        '  account: "222233334444"\n  region: eu-central-1\n  kmsKeyArn: arn:aws:kms:eu-west-1:999988887777:key/k1\n  roleArn: arn:aws:iam::999988887777:role/w\n',
      ),
    );
    const noRole = problems(
      vault('  account: "222233334444"\n  kmsKeyArn: arn:aws:kms:eu-west-1:222233334444:key/k1\n'),
    );
    const notQuoted = problems(
      vault(
        '  account: 222233334444\n  kmsKeyArn: arn:aws:kms:eu-west-1:222233334444:key/k1\n  roleArn: arn:aws:iam::222233334444:role/w\n',
      ),
    );

    // Assess
    expect(same).toEqual([
      "vault.account: is 123456789012, the production account (snapshots.drKmsKeyArn is in it): the vault must be another account, one that production's credentials cannot delete from",
    ]);
    expect(alias).toEqual([
      'vault.kmsKeyArn: must be the ARN of a customer-managed KMS key in the vault account (arn:aws:kms:<region>:<vault account>:key/<id>), not an alias: RDS cannot share or copy across accounts under an AWS-managed key such as aws/rds',
    ]);
    expect(elsewhere).toEqual(
      [
        "vault.kmsKeyArn: is a key of account 999988887777, but the vault's copies must be encrypted with a key of the vault account 222233334444",
        'vault.roleArn: is a role of account 999988887777, but Lifeboat must assume a role in the vault account 222233334444',
      ].sort(),
    );
    expect(noRole).toEqual([
      'vault.roleArn: is required: must be the ARN of the role Lifeboat assumes in the vault account (arn:aws:iam::<vault account>:role/<name>), from the vault stack',
    ]);
    expect(notQuoted).toEqual([
      expect.stringMatching(/^vault\.account: must be the vault account's 12-digit id, quoted/),
    ]);
  });

  it('says so when the policy named is a directory', () => {
    // Act
    const act = () => loadPolicyFile('test/fixtures');

    // Assess
    expect(act).toThrow(
      'test/fixtures: 1 problem\n  - (top level): cannot read the policy: it is a directory; name the policy file in it (lifeboat.policy.yml)',
    );
  });

  describe('objectives', () => {
    // The shipped example without its own objectives, and its targets without tiers.
    const example = readFileSync('lifeboat.policy.yml', 'utf8')
      .replace(/\nobjectives:[\s\S]*?\n(?=\S)/, '\n')
      .replace(/^ {4}tier: .*\n/gm, '');
    const tiers = `
objectives:
  default: standard
  tiers:
    critical: { rpo: 15min, rto: 1h, continuousBackups: { retentionDays: 7, replicateToDr: true } }
    standard: { rpo: 1d, rto: 2h }
`;
    const withTiers = (change: (text: string) => string = (t) => t) =>
      problems(change(example + tiers));

    it('takes tiers of objectives, a default, and each target’s tier', () => {
      // Act
      const policy = parsePolicyText(
        example.replace(
          '    identifier: orders-db\n',
          '    identifier: orders-db\n    tier: critical\n',
        ) + tiers,
        'policy.yml',
      );

      // Assess
      expect(policy.objectives).toEqual({
        default: 'standard',
        tiers: {
          critical: {
            rpo: '15min',
            rto: '1h',
            continuousBackups: { retentionDays: 7, replicateToDr: true },
          },
          standard: { rpo: '1d', rto: '2h' },
        },
        enforceContinuousBackups: false,
        postureSchedule: 'rate(1 hour)',
      });
      expect(policy.targets[0]?.tier).toBe('critical');
    });

    it.each([
      [
        'an RPO shorter than the snapshots allow, without continuous backups',
        (t: string) =>
          t.replace(', continuousBackups: { retentionDays: 7, replicateToDr: true }', ''),
        'objectives.tiers.critical.rpo: is 15m, but without continuousBackups the newest restore point can be 1d old (snapshots.schedule): give this tier continuousBackups, or allow at least 1d',
      ],
      [
        'an RPO shorter than RDS ships its logs',
        (t: string) => t.replace('rpo: 15min', 'rpo: 2min'),
        'objectives.tiers.critical.rpo: is 2m, but RDS uploads transaction logs every 5 minutes, so a point-in-time restore can lose that much: allow at least 5min',
      ],
      [
        'an RTO no drill could show met',
        (t: string) => t.replace('rto: 2h', 'rto: 4h'),
        'objectives.tiers.standard.rto: is 4h, but a drill stops waiting after drills.timeout (2h) and could never show it met: raise drills.timeout to at least 4h',
      ],
      [
        'an RTO shorter than two polls',
        (t: string) =>
          t.replace('rto: 1h', 'rto: 15min').replace('pollSeconds: 60', 'pollSeconds: 600'),
        'objectives.tiers.critical.rto: is 15m, but a drill looks at the restore only every 600s (drills.pollSeconds): allow at least 20m, or poll more often',
      ],
      [
        'an unknown tier',
        (t: string) =>
          t.replace('    identifier: orders-db\n', '    identifier: orders-db\n    tier: gold\n'),
        'targets[0].tier: is not a tier: the tiers are critical, standard',
      ],
      [
        'a target with two tiers',
        (t: string) =>
          t.replace(
            '    identifier: orders-db\n',
            '    identifier: orders-db\n    tier: [critical, standard]\n',
          ),
        'targets[0].tier: must be the name of one tier in objectives.tiers',
      ],
      [
        'an unknown default',
        (t: string) => t.replace('default: standard', 'default: bronze'),
        'objectives.default: is not a tier: the tiers are critical, standard',
      ],
      [
        'an objective that is not a time',
        (t: string) => t.replace('rpo: 1d', 'rpo: 1 day'),
        'objectives.tiers.standard.rpo: must be the most data loss allowed such as 15min, 1h or 1d',
      ],
    ])('refuses %s, with the reason', (_, change, expected) => {
      // Act
      const found = withTiers(change);

      // Assess
      expect(found).toEqual([expected]);
    });
  });

  it('reports every bad field at once, not only the first', () => {
    // Prepare
    const text = VALID.replace('version: 1', 'version: 3')
      .replace('timeZone: Europe/Berlin', 'timeZone: Mars')
      .replace('daily: 7', 'daily: -1');

    // Act
    const found = problems(text);

    // Assess
    expect(found).toHaveLength(3);
  });

  it('refuses a YAML alias bomb as a policy error, not a crash', () => {
    // Prepare: nine levels of nine aliases each: a billion strings once expanded
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i += 1) {
      const previous = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      levels.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    const text = `${VALID}\nbomb:\n${levels.map((l) => `  ${l}`).join('\n')}\n`;

    // Act
    const found = problems(text);

    // Assess
    expect(found).toEqual([': YAML: its aliases expand too far (more than 100); write it out']);
  });

  it('names a missing file instead of failing obscurely', () => {
    // Act
    const act = () => loadPolicyFile('no/such/policy.yml');

    // Assess
    expect(act).toThrow(
      'no/such/policy.yml: 1 problem\n  - (top level): cannot read the policy: no such file',
    );
  });

  it('reads back the packaged JSON policy with the same schema', () => {
    // Prepare
    const path = packagedPolicyFile();

    // Act
    const policy = loadPackagedPolicy(path);

    // Assess
    expect(policy).toEqual(loadPolicyFile(FIXTURE_POLICY_FILE));
  });
});

describe('durations', () => {
  it.each([
    ['30d', { years: 0, months: 0, days: 30, hours: 0 }],
    ['1y6m', { years: 1, months: 6, days: 0, hours: 0 }],
    ['2w12h', { years: 0, months: 0, days: 14, hours: 12 }],
  ])('parses %s', (text, expected) => {
    // Act
    const parsed = parseDuration(text);

    // Assess
    expect(parsed).toEqual(expected);
  });

  it.each(['', '30', 'd', '1.5d', '3x', '1d ', '-1d'])('rejects %j', (text) => {
    // Act
    const parsed = parseDuration(text);

    // Assess
    expect(parsed).toBeUndefined();
  });

  it('subtracts months on the calendar, as restic does', () => {
    // Act
    const before = subtractDuration(new Date('2026-03-31T10:00:00Z'), {
      years: 0,
      months: 1,
      days: 0,
      hours: 2,
    });

    // Assess
    expect(before.toISOString()).toBe('2026-03-03T08:00:00.000Z');
  });
});

describe('schedule expressions', () => {
  it.each([
    'cron(0 3 * * ? *)',
    'cron(15,45 */2 ? * MON-FRI *)',
    'cron(0 4 L * ? *)',
    'cron(0/15 * * * ? *)',
    'cron(0 3 15W * ? *)',
    'cron(0 3 ? * 6#3 2026-2030)',
    'cron(0 3 * JAN-MAR ? *)',
    'rate(1 day)',
    'rate(6 hours)',
  ])('accepts %s', (expression) => {
    // Act
    const problem = scheduleExpressionProblem(expression);

    // Assess
    expect(problem).toBeUndefined();
  });

  it.each([
    ['rate(0 hours)', 'a rate must be at least 1'],
    ['rate(2 day)', 'write rate(2 days), plural'],
    ['cron(61 3 * * ? *)', 'cron minutes "61" invalid: 61 is out of range (0-59)'],
    ['cron(0 24 * * ? *)', 'cron hours "24" invalid: 24 is out of range (0-23)'],
    ['cron(0 3 ? * 1#6 *)', 'cron day-of-week "1#6" invalid: "1#6": #6 is not allowed here'],
    ['cron(0 3 * * ? 1969)', 'cron year "1969" invalid: 1969 is out of range (1970-2199)'],
    ['cron(0 3 15#2 * ? *)', 'cron day-of-month "15#2" invalid: "15#2": #2 is not allowed here'],
    ['rate(400 days)', 'a rate must be at most a year'],
    ['every day', 'must be rate(<n> <minutes|hours|days>) or cron(<6 fields>)'],
  ])('rejects %s', (expression, reason) => {
    // Act
    const problem = scheduleExpressionProblem(expression);

    // Assess
    expect(problem).toBe(reason);
  });
});

describe('schedule times', () => {
  it('fires a daily cron at its local time, across a change of summer time', () => {
    // Prepare
    const daily = parseSchedule('cron(0 3 * * ? *)', 'Europe/Berlin');

    // Act
    const times = firesBetween(
      daily,
      new Date('2026-10-24T00:00:00Z'),
      new Date('2026-10-26T23:59:00Z'),
    );

    // Assess: 03:00 in Berlin is 01:00Z in summer time, 02:00Z after it ends on 25 October
    expect(times.map((t) => t.toISOString())).toEqual([
      '2026-10-24T01:00:00.000Z',
      '2026-10-25T02:00:00.000Z',
      '2026-10-26T02:00:00.000Z',
    ]);
  });

  it('reads Scheduler weekday numbers (1 is Sunday) and open steps (0/20)', () => {
    // Prepare
    const sundays = parseSchedule('cron(0/20 5 ? * 1 *)', 'UTC');

    // Act
    const times = firesBetween(
      sundays,
      new Date('2026-11-28T00:00:00Z'),
      new Date('2026-11-29T23:00:00Z'),
    );

    // Assess: 29 November 2026 is a Sunday
    expect(times.map((t) => t.toISOString())).toEqual([
      '2026-11-29T05:00:00.000Z',
      '2026-11-29T05:20:00.000Z',
      '2026-11-29T05:40:00.000Z',
    ]);
  });

  it('gives rates no fixed times: Scheduler starts them when the schedule is made', () => {
    // Act
    const times = firesBetween(
      parseSchedule('rate(1 day)', 'UTC'),
      new Date('2026-11-01T00:00:00Z'),
      new Date('2026-11-28T00:00:00Z'),
    );

    // Assess
    expect(times).toEqual([]);
  });
});
