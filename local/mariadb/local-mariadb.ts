import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { freePort } from '../free-port.js';
import type { LocalAuthority } from '../tls/local-authority.js';

/** Where a database answers. */
export interface MariadbEndpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

/**
 * A throwaway MariaDB on 127.0.0.1 for smoke checks: the machine's MariaDB server binaries in a
 * fresh data directory, serving TLS with a local authority's certificate when given one. Logins
 * use `user` and `password`.
 */
export interface LocalMariadb {
  readonly user: string;
  readonly password: string;
  readonly version: string;
  /** A database to write to, created empty. */
  create(database: string): Promise<MariadbEndpoint>;
  /** Runs SQL in a database and returns the rows. */
  query(at: MariadbEndpoint, sql: string, values?: unknown[]): Promise<Record<string, unknown>[]>;
  /** A copy of a database as it is now, the way a snapshot holds it; later writes miss it. */
  snapshot(of: MariadbEndpoint, name: string): Promise<MariadbEndpoint>;
  stop(): Promise<void>;
}

/** Where the MariaDB server binaries are: $LIFEBOAT_MARIADB_BIN, or Debian's mariadb-server. */
export function mariadbBinaries(
  env: NodeJS.ProcessEnv = process.env,
): { readonly server: string; readonly installDb: string } | undefined {
  const dirs = env.LIFEBOAT_MARIADB_BIN ? [env.LIFEBOAT_MARIADB_BIN] : ['/usr/sbin', '/usr/bin'];
  const find = (name: string) => dirs.map((d) => join(d, name)).find((p) => existsSync(p));
  const server = find('mariadbd');
  const installDb = find('mariadb-install-db');
  return server && installDb ? { server, installDb } : undefined;
}

const USER = 'lifeboat';

/** Starts MariaDB from the machine's binaries (Debian: apt-get install mariadb-server). */
export async function startLocalMariadb(
  options: { readonly tls?: LocalAuthority } = {},
): Promise<LocalMariadb> {
  const bin = mariadbBinaries();
  if (!bin) {
    throw new Error(
      'MariaDB server binaries not found (mariadbd, mariadb-install-db): install mariadb-server, or set LIFEBOAT_MARIADB_BIN',
    );
  }
  const password = randomBytes(12).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-mariadb-'));
  const data = join(dir, 'data');
  // The server runs as whoever we are; as root it must be told so.
  const asRoot = process.getuid?.() === 0 ? ['--user=root'] : [];
  const init = spawnSync(
    bin.installDb,
    [
      '--no-defaults',
      `--datadir=${data}`,
      '--auth-root-authentication-method=socket',
      '--skip-test-db',
      ...asRoot,
    ],
    { encoding: 'utf8' },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`mariadb-install-db failed: ${init.stderr || init.stdout}`);
  }
  writeFileSync(
    join(dir, 'init.sql'),
    [
      `CREATE USER IF NOT EXISTS '${USER}'@'%' IDENTIFIED BY '${password}';`,
      `GRANT ALL PRIVILEGES ON *.* TO '${USER}'@'%' WITH GRANT OPTION;`,
      '',
    ].join('\n'),
  );
  const tls = options.tls
    ? (() => {
        writeFileSync(join(dir, 'ca.pem'), options.tls.caPem);
        copyFileSync(options.tls.certFile, join(dir, 'server.pem'));
        copyFileSync(options.tls.keyFile, join(dir, 'server.key'));
        return [
          `--ssl-ca=${join(dir, 'ca.pem')}`,
          `--ssl-cert=${join(dir, 'server.pem')}`,
          `--ssl-key=${join(dir, 'server.key')}`,
        ];
      })()
    : [];
  const port = await freePort();
  const server: ChildProcess = spawn(
    bin.server,
    [
      '--no-defaults',
      `--datadir=${data}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${join(dir, 'mysqld.sock')}`,
      `--pid-file=${join(dir, 'mysqld.pid')}`,
      `--log-error=${join(dir, 'error.log')}`,
      `--init-file=${join(dir, 'init.sql')}`,
      '--skip-name-resolve',
      '--skip-log-bin',
      '--innodb-buffer-pool-size=32M',
      '--innodb-log-file-size=16M',
      '--innodb-flush-log-at-trx-commit=0',
      '--max-connections=30',
      ...tls,
      ...asRoot,
    ],
    { stdio: 'ignore' },
  );
  const log = () => {
    try {
      return readFileSync(join(dir, 'error.log'), 'utf8').slice(-4000);
    } catch {
      return '';
    }
  };
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const stop = async () => {
    if (server.exitCode === null && server.signalCode === null) {
      server.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const admin: MariadbEndpoint = { host: '127.0.0.1', port, database: 'mysql' };
  const query: LocalMariadb['query'] = async (at, sql, values) => {
    const connection = await mysql.createConnection({
      ...at,
      user: USER,
      password,
      timezone: 'Z',
    });
    try {
      await connection.query("SET time_zone = '+00:00'");
      const [rows] = await connection.query(sql, values);
      return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    } finally {
      await connection.end();
    }
  };
  try {
    await waitUntilReady(() => query(admin, 'SELECT 1'), server, log);
  } catch (error) {
    await stop();
    throw error;
  }
  const [{ version }] = (await query(admin, 'SELECT VERSION() AS version')) as [
    { version: string },
  ];
  return {
    user: USER,
    password,
    version,
    async create(database) {
      await query(admin, `CREATE DATABASE ${quote(database)}`);
      return { ...admin, database };
    },
    query,
    async snapshot(of, name) {
      await query(admin, `CREATE DATABASE ${quote(name)}`);
      const tables = await query(
        admin,
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? AND table_type = 'BASE TABLE'",
        [of.database],
      );
      for (const { t } of tables as { t: string }[]) {
        await query(
          admin,
          `CREATE TABLE ${quote(name)}.${quote(t)} LIKE ${quote(of.database)}.${quote(t)}`,
        );
        await query(
          admin,
          `INSERT INTO ${quote(name)}.${quote(t)} SELECT * FROM ${quote(of.database)}.${quote(t)}`,
        );
      }
      return { ...admin, database: name };
    },
    stop,
  };
}

async function waitUntilReady(
  probe: () => Promise<unknown>,
  server: ChildProcess,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`mariadbd exited: ${log()}`);
    try {
      await probe();
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`mariadbd did not start: ${String(error)} ${log()}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }
}

const quote = (name: string) => `\`${name.replace(/`/g, '``')}\``;
