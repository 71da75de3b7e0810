import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Connect, DatabaseLogin, SqlSession } from '../../shared/drills/database-session.js';
import { drillReport, drillReportMarkdown } from '../../shared/drills/drill-report.js';
import {
  runSmokeChecks,
  SmokeConfigError,
  SmokeConnectionError,
} from '../../shared/drills/smoke-checks.js';
import { drillPlanFixture, SMOKE_PASSED, TEARDOWN_DONE } from '../support/machine-world.js';

const secrets = mockClient(SecretsManagerClient);
const PASSWORD = 'hunter2-correct-horse';

beforeEach(() => {
  secrets.reset();
  secrets
    .on(GetSecretValueCommand)
    .resolves({ SecretString: JSON.stringify({ username: 'app', password: PASSWORD }) });
});

/** A database that answers each SQL text with the rows given, or raises. */
function database(answers: Record<string, unknown[][] | Error>) {
  const logins: DatabaseLogin[] = [];
  let ended = 0;
  const connect: Connect = async (login) => {
    logins.push(login);
    const session: SqlSession = {
      async query(sql) {
        const answer = answers[sql];
        if (answer === undefined) throw new Error(`relation for ${sql} does not exist`);
        if (answer instanceof Error) throw answer;
        return answer;
      },
      async end() {
        ended++;
      },
    };
    return session;
  };
  return { connect, logins, ended: () => ended };
}

const input = (
  checks: unknown[],
  freshness: string | null = null,
  engines: { readonly runs?: string; readonly writtenFor?: string | null } = {},
) => ({
  drillId: 'lb-drill-x',
  engine: engines.runs ?? 'postgres',
  address: 'lb-drill-x.abc.eu-central-1.rds.amazonaws.com',
  port: 5432,
  check: {
    database: 'orders',
    credentialsSecret: 'prod/orders-db/master',
    engine: engines.writtenFor ?? null,
    checks,
    freshness,
    tls: 'verify-full',
  },
});

const NOW = () => new Date('2026-11-21T04:20:00Z');

describe('smoke checks', () => {
  it('logs in with the source’s credentials and passes when every expectation holds', async () => {
    // Arrange
    const db = database({
      'select count(*) from orders': [['1200']],
      'select migrated': [[true]],
      'select max(created_at) from orders': [[new Date('2026-11-21T02:00:00Z')]],
    });

    // Act
    const result = await runSmokeChecks(
      { secrets: secrets as never, connect: db.connect, now: NOW },
      input(
        [
          { name: 'orders exist', sql: 'select count(*) from orders', atLeast: 1000 },
          { name: 'migrated', sql: 'select migrated', isTrue: true },
        ],
        'select max(created_at) from orders',
      ),
    );

    // Assess
    expect(result).toEqual({
      passed: true,
      checks: [
        { name: 'orders exist', passed: true, expected: 'at least 1000', value: '1200' },
        { name: 'migrated', passed: true, expected: 'true', value: true },
        {
          name: 'freshness',
          passed: true,
          expected: 'the newest row’s time',
          value: '2026-11-21T02:00:00.000Z',
        },
      ],
      newestData: '2026-11-21T02:00:00.000Z',
      checkedAt: '2026-11-21T04:20:00.000Z',
    });
    expect(db.logins).toEqual([
      {
        engine: 'postgres',
        host: 'lb-drill-x.abc.eu-central-1.rds.amazonaws.com',
        port: 5432,
        database: 'orders',
        user: 'app',
        password: PASSWORD,
        tls: 'verify-full',
      },
    ]);
    expect(secrets).toHaveReceivedCommandWith(GetSecretValueCommand, {
      SecretId: 'prod/orders-db/master',
    });
    expect(db.ended()).toBe(1);
  });

  it('fails a check below its count, a check not true, and a check whose SQL errors, running them all', async () => {
    // Arrange
    const db = database({ 'select count(*) from orders': [['999']], 'select false': [['f']] });

    // Act
    const result = await runSmokeChecks(
      { secrets: secrets as never, connect: db.connect },
      input([
        { name: 'orders exist', sql: 'select count(*) from orders', atLeast: 1000 },
        { name: 'flag', sql: 'select false', isTrue: true },
        { name: 'broken', sql: 'select nope', atLeast: 1 },
      ]),
    );

    // Assess
    expect(result.passed).toBe(false);
    expect(result.checks).toEqual([
      { name: 'orders exist', passed: false, expected: 'at least 1000', value: '999' },
      { name: 'flag', passed: false, expected: 'true', value: 'f' },
      {
        name: 'broken',
        passed: false,
        expected: 'at least 1',
        value: null,
        error: 'relation for select nope does not exist',
      },
    ]);
  });

  it('fails the freshness check when the query finds no timestamp', async () => {
    const db = database({ 'select 1': [[1]], 'select max(created_at) from orders': [[null]] });
    const result = await runSmokeChecks(
      { secrets: secrets as never, connect: db.connect },
      input([{ name: 'one', sql: 'select 1', atLeast: 1 }], 'select max(created_at) from orders'),
    );
    expect(result.passed).toBe(false);
    expect(result.newestData).toBeNull();
    expect(result.checks.at(-1)).toMatchObject({
      name: 'freshness',
      passed: false,
      error: 'the query returned no timestamp',
    });
  });

  it('raises SmokeConnectionError, which the state machine retries, when the database refuses connections', async () => {
    // Arrange
    const refused: Connect = async () => {
      throw Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), {
        code: 'ECONNREFUSED',
      });
    };

    // Act
    const act = runSmokeChecks(
      { secrets: secrets as never, connect: refused },
      input([{ name: 'one', sql: 'select 1', atLeast: 1 }]),
    );

    // Assess
    await expect(act).rejects.toThrow(SmokeConnectionError);
    await expect(act).rejects.toThrow(
      'cannot connect to lb-drill-x.abc.eu-central-1.rds.amazonaws.com:5432/orders: connect ECONNREFUSED',
    );
  });

  it('raises SmokeConfigError on a failed login, never showing the password', async () => {
    // Arrange
    const denied: Connect = async () => {
      throw Object.assign(new Error('password authentication failed for user "app"'), {
        code: '28P01',
      });
    };

    // Act
    const error = await runSmokeChecks(
      { secrets: secrets as never, connect: denied },
      input([{ name: 'one', sql: 'select 1', atLeast: 1 }]),
    ).catch((e: Error) => e);

    // Assess
    expect(error).toBeInstanceOf(SmokeConfigError);
    expect(String((error as Error).message)).not.toContain(PASSWORD);
  });

  it.each([
    ['mysql', 'ER_CON_COUNT_ERROR', 'Too many connections'],
    ['mariadb', 'ER_SERVER_SHUTDOWN', 'Server shutdown in progress'],
    [
      'aurora-mysql',
      'PROTOCOL_CONNECTION_LOST',
      'Connection lost: The server closed the connection.',
    ],
    ['postgres', '57P03', 'the database system is starting up'],
    ['aurora-postgresql', '53300', 'sorry, too many clients already'],
  ])('retries %s when it answers %s at connection', async (engine, code, message) => {
    // Arrange
    const busy: Connect = async () => {
      throw Object.assign(new Error(message), { code });
    };

    // Act
    const act = runSmokeChecks(
      { secrets: secrets as never, connect: busy },
      input([{ name: 'one', sql: 'select 1', atLeast: 1 }], null, { runs: engine }),
    );

    // Assess
    await expect(act).rejects.toThrow(SmokeConnectionError);
  });

  it('fails at once, as not retryable, when the server cannot prove it is the drill database', async () => {
    // Arrange: how mysql2 and pg report a certificate they cannot verify
    const impostors: [string, Connect][] = [
      [
        'mysql',
        async () => {
          throw Object.assign(new Error('self-signed certificate in certificate chain'), {
            code: 'HANDSHAKE_SSL_ERROR',
          });
        },
      ],
      [
        'postgres',
        async () => {
          throw Object.assign(new Error("Hostname/IP does not match certificate's altnames"), {
            code: 'ERR_TLS_CERT_ALTNAME_INVALID',
          });
        },
      ],
    ];

    for (const [engine, connect] of impostors) {
      // Act
      const error = await runSmokeChecks(
        { secrets: secrets as never, connect },
        input([{ name: 'one', sql: 'select 1', atLeast: 1 }], null, { runs: engine }),
      ).catch((e: Error) => e);

      // Assess
      expect(error).toBeInstanceOf(SmokeConfigError);
      expect((error as Error).message).toContain(
        'did not prove it is the drill database (tls verify-full)',
      );
    }
  });

  it('names the engine’s error code and message when a check’s SQL fails', async () => {
    // Arrange
    const mysqlError = Object.assign(new Error("Table 'shop.orderz' doesn't exist"), {
      code: 'ER_NO_SUCH_TABLE',
      errno: 1146,
      sqlMessage: "Table 'shop.orderz' doesn't exist",
    });
    const pgError = Object.assign(new Error('relation "orderz" does not exist'), { code: '42P01' });
    const db = (error: Error) => database({ 'select count(*) from orderz': error }).connect;
    const checks = [{ name: 'orders', sql: 'select count(*) from orderz', atLeast: 1 }];

    // Act
    const mysql = await runSmokeChecks(
      { secrets: secrets as never, connect: db(mysqlError) },
      input(checks, null, { runs: 'mariadb' }),
    );
    const postgres = await runSmokeChecks(
      { secrets: secrets as never, connect: db(pgError) },
      input(checks, null, { runs: 'postgres' }),
    );

    // Assess
    expect(mysql.checks[0]?.error).toBe(
      "MySQL/MariaDB error ER_NO_SUCH_TABLE (1146): Table 'shop.orderz' doesn't exist",
    );
    expect(postgres.checks[0]?.error).toBe(
      'PostgreSQL error 42P01: relation "orderz" does not exist',
    );
  });

  it('opens a MySQL-family database with its engine, and refuses checks written for another engine without connecting', async () => {
    // Arrange
    const db = database({ 'select 1': [[1]] });
    const checks = [{ name: 'one', sql: 'select 1', atLeast: 1 }];

    // Act
    const aurora = await runSmokeChecks(
      { secrets: secrets as never, connect: db.connect },
      input(checks, null, { runs: 'aurora-mysql', writtenFor: 'mariadb' }),
    );
    const mismatch = await runSmokeChecks(
      { secrets: secrets as never, connect: db.connect },
      input(checks, null, { runs: 'postgres', writtenFor: 'mysql' }),
    ).catch((e: Error) => e);
    const unknown = await runSmokeChecks(
      { secrets: secrets as never, connect: db.connect },
      input(checks, null, { runs: 'sqlserver-ex' }),
    ).catch((e: Error) => e);

    // Assess
    expect(aurora.passed).toBe(true);
    expect(db.logins.map((l) => l.engine)).toEqual(['mysql']);
    expect(mismatch).toEqual(
      new SmokeConfigError(
        'the checks are written for mysql (MySQL/MariaDB), but the restored database runs postgres (PostgreSQL)',
      ),
    );
    expect(unknown).toEqual(
      new SmokeConfigError(
        'the restored database runs sqlserver-ex: smoke checks run on PostgreSQL, MySQL and MariaDB (RDS and Aurora)',
      ),
    );
    expect(db.logins).toHaveLength(1);
  });

  it('refuses a secret that is not {username, password}, naming the secret but not its content', async () => {
    // Arrange
    secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: `postgres://app:${PASSWORD}@db/orders` });
    const db = database({});

    // Act
    const error = await runSmokeChecks(
      { secrets: secrets as never, connect: db.connect },
      input([{ name: 'one', sql: 'select 1', atLeast: 1 }]),
    ).catch((e: Error) => e);

    // Assess
    expect(error).toEqual(
      new SmokeConfigError(
        'secret prod/orders-db/master must be a JSON object with string fields username and password',
      ),
    );
    expect(JSON.stringify(error)).not.toContain(PASSWORD);
    expect(db.logins).toEqual([]);
  });

  it('lets a missing secret fail the task', async () => {
    secrets.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({
        message: 'Secrets Manager can’t find the specified secret.',
        $metadata: {},
      }),
    );
    await expect(
      runSmokeChecks(
        { secrets: secrets as never, connect: database({}).connect },
        input([{ name: 'one', sql: 'select 1', atLeast: 1 }]),
      ),
    ).rejects.toThrow(ResourceNotFoundException);
  });

  it('rejects a malformed task input, naming the field', async () => {
    await expect(
      runSmokeChecks(
        { secrets: secrets as never, connect: database({}).connect },
        { ...input([]), port: 'x' },
      ),
    ).rejects.toThrow(/port: .*number/);
  });
});

describe('the drill report', () => {
  const plan = drillPlanFixture();
  const FINISHED = new Date('2026-11-21T04:30:00Z');
  const state = (extra: Record<string, unknown>) => ({
    input: { target: 'orders-db' },
    plan,
    teardown: { done: false, deleted: [], gone: [], pending: [], attempts: 0 },
    ...extra,
  });
  const available = {
    count: 3,
    state: 'available',
    status: 'available',
    address: 'h',
    port: 5432,
    observedAt: '2026-11-21T04:15:00.000Z',
  };

  it('measures RTO from the drill’s start to the checks passing, and RPO from the newest row', () => {
    // Act
    const report = drillReport(
      state({ poll: available, checks: SMOKE_PASSED, teardown: TEARDOWN_DONE }),
      FINISHED,
    );

    // Assess
    expect(report).toMatchObject({
      succeeded: true,
      failure: null,
      rtoSeconds: 20 * 60,
      restoreSeconds: 15 * 60,
      rpoSeconds: 2 * 3600,
      rpoBasis: 'newest-row',
      polls: 3,
      teardown: { done: true, attempts: 1, left: [] },
    });
  });

  it('measures RPO from the snapshot time when the policy gives no freshness query', () => {
    const report = drillReport(
      state({
        poll: available,
        checks: { ...SMOKE_PASSED, newestData: null },
        teardown: TEARDOWN_DONE,
      }),
      FINISHED,
    );
    // Snapshot at 2026-11-20 03:00, drill at 2026-11-21 04:00.
    expect(report).toMatchObject({ rpoSeconds: 25 * 3600, rpoBasis: 'snapshot-time' });
  });

  it('says why a drill failed: the caught error, and what teardown left behind', () => {
    // Act
    const report = drillReport(
      state({
        error: { Error: 'Rds.StorageQuotaExceededException', Cause: 'quota exceeded' },
        teardownError: {
          Error: 'NotThisDrillError',
          Cause: JSON.stringify({ errorMessage: 'not ours', errorType: 'NotThisDrillError' }),
        },
      }),
      FINISHED,
    );

    // Assess
    expect(report).toMatchObject({
      succeeded: false,
      failure:
        'Rds.StorageQuotaExceededException: quota exceeded; teardown did not finish: the janitor deletes what is left',
      rtoSeconds: null,
      rpoSeconds: null,
      teardown: {
        done: false,
        left: ['lb-drill-orders-db-261121040000'],
        error: 'NotThisDrillError: not ours',
      },
    });
  });

  it('writes Markdown people can read: measurements, every check, the cleanup', () => {
    // Act
    const markdown = drillReportMarkdown(
      drillReport(
        state({ poll: available, checks: SMOKE_PASSED, teardown: TEARDOWN_DONE }),
        FINISHED,
      ),
    );

    // Assess
    expect(markdown).toContain('# Restore drill lb-drill-orders-db-261121040000: succeeded');
    expect(markdown).toContain('- RTO: 20m 0s (restore 15m 0s, 3 polls)');
    expect(markdown).toContain('- RPO: 2h 0m 0s (drill start minus the newest row restored)');
    expect(markdown).toContain('| orders exist | at least 1000 | 1200 | pass |');
    expect(markdown).toContain(
      'Teardown: done after 1 attempt(s), deleted lb-drill-orders-db-261121040000',
    );
  });

  it('rejects a state without a plan', () => {
    expect(() => drillReport({ checks: SMOKE_PASSED }, FINISHED)).toThrow(/plan/);
  });
});
