import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalMariadb, startLocalMariadb } from '../../local/mariadb/local-mariadb.js';
import {
  type LocalPostgres,
  postgresBinDir,
  startLocalPostgres,
} from '../../local/postgres/local-postgres.js';
import { createLocalAuthority, type LocalAuthority } from '../../local/tls/local-authority.js';
import { drillConnect } from '../../shared/drills/drill-connect.js';
import { runSmokeChecks, SmokeConfigError } from '../../shared/drills/smoke-checks.js';

// Smoke checks through the real drivers against real servers serving TLS: verify-full proves
// which server answers (a certificate from another authority, or for another name, is refused),
// require only encrypts, and each engine's errors are named in its own terms. The servers'
// certificates come from authorities made for this run.

const secrets = mockClient(SecretsManagerClient);
let authority: LocalAuthority;
let stranger: LocalAuthority;
let misnamed: LocalAuthority;
const servers: { stop(): Promise<void> }[] = [];

interface Engine {
  readonly engine: string;
  readonly port: number;
  readonly misnamedPort: number;
  readonly user: string;
  readonly password: string;
  /** True when the session is encrypted. */
  readonly encryptedQuery: string;
}
const engines: Record<'postgres' | 'mariadb', Engine | undefined> = {
  postgres: undefined,
  mariadb: undefined,
};

async function seedOrders(
  server: LocalPostgres | LocalMariadb,
  kind: 'postgres' | 'mariadb',
): Promise<number> {
  const db = await server.create('shop');
  const created =
    kind === 'postgres'
      ? 'create table orders (id serial primary key, created_at timestamptz not null)'
      : 'create table orders (id int auto_increment primary key, created_at datetime(3) not null)';
  await server.query(db, created);
  const insert =
    kind === 'postgres'
      ? 'insert into orders (created_at) values ($1)'
      : 'insert into orders (created_at) values (?)';
  for (const minutes of [90, 60, 30]) {
    await server.query(db, insert, [new Date(NEWEST.getTime() - (minutes - 30) * 60_000)]);
  }
  return db.port;
}

const NEWEST = new Date('2026-11-28T01:00:00.000Z');

beforeAll(async () => {
  authority = createLocalAuthority();
  stranger = createLocalAuthority({ commonName: 'Someone else' });
  misnamed = createLocalAuthority({ dnsNames: ['db.example.internal'], ips: ['10.9.9.9'] });
  const maria = await startLocalMariadb({ tls: authority });
  const mariaMisnamed = await startLocalMariadb({ tls: misnamed });
  servers.push(maria, mariaMisnamed);
  engines.mariadb = {
    engine: 'mariadb',
    port: await seedOrders(maria, 'mariadb'),
    misnamedPort: (await mariaMisnamed.create('shop')).port,
    user: maria.user,
    password: maria.password,
    encryptedQuery:
      "select variable_value <> '' from information_schema.session_status where variable_name = 'Ssl_cipher'",
  };
  if (postgresBinDir()) {
    const pg = await startLocalPostgres({ prefer: 'postgresql', tls: authority });
    const pgMisnamed = await startLocalPostgres({ prefer: 'postgresql', tls: misnamed });
    servers.push(pg, pgMisnamed);
    engines.postgres = {
      engine: 'postgres',
      port: await seedOrders(pg, 'postgres'),
      misnamedPort: (await pgMisnamed.create('shop')).port,
      user: pg.user,
      password: pg.password,
      encryptedQuery: 'select ssl from pg_stat_ssl where pid = pg_backend_pid()',
    };
  }
}, 120_000);

afterAll(async () => {
  for (const server of servers) await server.stop();
  for (const a of [authority, stranger, misnamed]) a?.remove();
});

beforeEach(() => {
  secrets.reset();
});

const input = (
  e: Engine,
  options: {
    readonly tls: 'verify-full' | 'require';
    readonly port?: number;
    readonly checks?: unknown[];
  },
) => ({
  drillId: 'lb-drill-shop-1',
  engine: e.engine,
  address: '127.0.0.1',
  port: options.port ?? e.port,
  check: {
    database: 'shop',
    credentialsSecret: 'prod/shop/master',
    engine: null,
    checks: options.checks ?? [
      { name: 'orders exist', sql: 'select count(*) from orders', atLeast: 3 },
      { name: 'encrypted', sql: e.encryptedQuery, isTrue: true },
    ],
    freshness: 'select max(created_at) from orders',
    tls: options.tls,
  },
});

const login = (e: Engine, password = e.password) =>
  secrets
    .on(GetSecretValueCommand)
    .resolves({ SecretString: JSON.stringify({ username: e.user, password }) });

const smoke = (trusted: LocalAuthority | undefined, event: unknown) =>
  runSmokeChecks(
    {
      secrets: new SecretsManagerClient({ region: 'eu-central-1' }),
      connect: drillConnect(trusted ? [trusted.caPem] : []),
    },
    event,
  );

describe.each(['mariadb', 'postgres'] as const)('drill sessions on %s', (kind) => {
  const e = () => {
    const found = engines[kind];
    if (!found) throw new Error(`${kind} is not on this machine`);
    return found;
  };

  it('runs the checks over TLS verified against the trusted authority', async () => {
    // Arrange
    login(e());

    // Act
    const result = await smoke(authority, input(e(), { tls: 'verify-full' }));

    // Assess
    expect(result.passed).toBe(true);
    expect(result.checks[0]).toMatchObject({ name: 'orders exist', passed: true });
    expect(result.checks[1]).toMatchObject({ name: 'encrypted', passed: true });
    expect(result.newestData).toBe(NEWEST.toISOString());
  });

  it('refuses a server whose certificate another authority signed', async () => {
    // Arrange
    login(e());

    // Act
    const error = await smoke(stranger, input(e(), { tls: 'verify-full' })).catch((x: Error) => x);

    // Assess
    expect(error).toBeInstanceOf(SmokeConfigError);
    expect((error as Error).message).toContain(
      'did not prove it is the drill database (tls verify-full)',
    );
  });

  it('refuses a server whose certificate names another host, though signed by a trusted authority', async () => {
    // Arrange
    login(e());

    // Act
    const error = await smoke(
      misnamed,
      input(e(), { tls: 'verify-full', port: e().misnamedPort }),
    ).catch((x: Error) => x);

    // Assess
    expect(error).toBeInstanceOf(SmokeConfigError);
    expect((error as Error).message).toMatch(/does not match certificate's altnames/);
  });

  it('encrypts without proving the server under require', async () => {
    // Arrange
    login(e());

    // Act
    const result = await smoke(undefined, input(e(), { tls: 'require' }));

    // Assess
    expect(result.passed).toBe(true);
    expect(result.checks[1]).toMatchObject({ name: 'encrypted', passed: true });
  });

  it('names the engine’s error code and message for a failing check, and for a refused login', async () => {
    // Arrange
    login(e());
    const missing = [{ name: 'carts', sql: 'select count(*) from carts', atLeast: 1 }];

    // Act
    const result = await smoke(authority, input(e(), { tls: 'verify-full', checks: missing }));
    login(e(), 'wrong-password');
    const refused = await smoke(authority, input(e(), { tls: 'verify-full' })).catch(
      (x: Error) => x,
    );

    // Assess
    expect(result.checks[0]?.error).toMatch(
      kind === 'postgres'
        ? /^PostgreSQL error 42P01: relation "carts" does not exist$/
        : /^MySQL\/MariaDB error ER_NO_SUCH_TABLE \(1146\): Table 'shop\.carts' doesn't exist$/,
    );
    expect(refused).toBeInstanceOf(SmokeConfigError);
    expect((refused as Error).message).toMatch(
      kind === 'postgres'
        ? /cannot log in to 127\.0\.0\.1:\d+\/shop: PostgreSQL error 28P01: password authentication failed/
        : /cannot log in to 127\.0\.0\.1:\d+\/shop: MySQL\/MariaDB error ER_ACCESS_DENIED_ERROR \(1045\): Access denied/,
    );
    expect((refused as Error).message).not.toContain('wrong-password');
  });
});
