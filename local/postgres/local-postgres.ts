import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from '../free-port.js';
import type { LocalAuthority } from '../tls/local-authority.js';

/** Where a database answers. */
export interface PgEndpoint {
  readonly host: string;
  readonly port: number;
  readonly database: string;
}

/**
 * A throwaway PostgreSQL on 127.0.0.1 for smoke checks: the machine's PostgreSQL server binaries
 * in a fresh cluster, or PGlite where there are none. Logins use `user` and `password`.
 */
export interface LocalPostgres {
  readonly kind: 'postgresql' | 'pglite';
  readonly user: string;
  readonly password: string;
  /** A database to write to, created empty. */
  create(database: string): Promise<PgEndpoint>;
  /** Runs SQL in a database and returns the rows. */
  query(at: PgEndpoint, sql: string, values?: unknown[]): Promise<Record<string, unknown>[]>;
  /** A copy of a database as it is now, the way a snapshot holds it; later writes miss it. */
  snapshot(of: PgEndpoint, name: string): Promise<PgEndpoint>;
  stop(): Promise<void>;
}

/** Where the PostgreSQL server binaries are: $LIFEBOAT_PG_BIN, or Debian's PostgreSQL 15. */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = env.LIFEBOAT_PG_BIN ?? '/usr/lib/postgresql/15/bin';
  return existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres')) ? dir : undefined;
}

/** Starts PostgreSQL from the machine's binaries, falling back to PGlite. */
export async function startLocalPostgres(
  options: { readonly prefer?: 'postgresql' | 'pglite'; readonly tls?: LocalAuthority } = {},
): Promise<LocalPostgres> {
  const bin = postgresBinDir();
  if (bin && options.prefer !== 'pglite') return startPostgresServer(bin, options.tls);
  return startPglite();
}

const USER = 'lifeboat';
// PostgreSQL refuses to run as root; when we are root, the cluster belongs to nobody.
const NOBODY = 65_534;

async function startPostgresServer(bin: string, tls?: LocalAuthority): Promise<LocalPostgres> {
  const password = randomBytes(12).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-pg-'));
  const data = join(dir, 'data');
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, password);
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
  if (asRoot) {
    chownSync(dir, NOBODY, NOBODY);
    chownSync(pwfile, NOBODY, NOBODY);
  }
  chmodSync(dir, 0o700);
  const init = spawnSync(
    join(bin, 'initdb'),
    [
      '-D',
      data,
      '-U',
      USER,
      '--pwfile',
      pwfile,
      '--auth',
      'scram-sha-256',
      '-E',
      'UTF8',
      '--no-sync',
      '--locale',
      'C',
    ],
    { ...owner, encoding: 'utf8' },
  );
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stderr || init.stdout}`);
  }
  // TLS with the local authority's certificate; the key must belong to the server's user.
  const ssl: string[] = [];
  if (tls) {
    const cert = join(dir, 'server.pem');
    const key = join(dir, 'server.key');
    copyFileSync(tls.certFile, cert);
    copyFileSync(tls.keyFile, key);
    chmodSync(key, 0o600);
    if (asRoot) {
      chownSync(cert, NOBODY, NOBODY);
      chownSync(key, NOBODY, NOBODY);
    }
    ssl.push('-c', 'ssl=on', '-c', `ssl_cert_file=${cert}`, '-c', `ssl_key_file=${key}`);
  }
  const port = await freePort();
  const server: ChildProcess = spawn(
    join(bin, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'max_connections=20',
      ...ssl,
    ],
    { ...owner, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  server.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  const stop = async () => {
    if (server.exitCode === null) {
      server.kill('SIGINT'); // fast shutdown
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const admin: PgEndpoint = { host: '127.0.0.1', port, database: 'postgres' };
  const query: LocalPostgres['query'] = async (at, sql, values) => {
    const client = new pg.Client({ ...at, user: USER, password });
    await client.connect();
    try {
      return (await client.query(sql, values as unknown[] | undefined)).rows as Record<
        string,
        unknown
      >[];
    } finally {
      await client.end();
    }
  };
  const local: LocalPostgres = {
    kind: 'postgresql',
    user: USER,
    password,
    async create(database) {
      await query(admin, `create database ${quote(database)}`);
      return { ...admin, database };
    },
    query,
    async snapshot(of, name) {
      // A template copy is the database exactly as it is now.
      await query(admin, `create database ${quote(name)} template ${quote(of.database)}`);
      return { ...admin, database: name };
    },
    stop,
  };
  try {
    await waitUntilReady(local, admin, server, () => log);
  } catch (error) {
    await stop();
    throw error;
  }
  return local;
}

async function waitUntilReady(
  local: LocalPostgres,
  at: PgEndpoint,
  server: ChildProcess,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`postgres exited: ${log()}`);
    try {
      await local.query(at, 'select 1');
      return;
    } catch (error) {
      if (Date.now() > deadline)
        throw new Error(`postgres did not start: ${String(error)} ${log()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

async function startPglite(): Promise<LocalPostgres> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  type Instance = {
    db: InstanceType<typeof PGlite>;
    server: InstanceType<typeof PGLiteSocketServer>;
    port: number;
  };
  const instances: Instance[] = [];
  // PGlite holds one database per instance: each database, and each snapshot, is an instance.
  const serve = async (db: InstanceType<typeof PGlite>): Promise<number> => {
    const port = await freePort();
    const server = new PGLiteSocketServer({ db, port, host: '127.0.0.1' });
    await server.start();
    instances.push({ db, server, port });
    return port;
  };
  const byPort = (port: number) => {
    const found = instances.find((i) => i.port === port);
    if (!found) throw new Error(`no PGlite database on port ${port}`);
    return found;
  };
  const password = 'pglite';
  const local: LocalPostgres = {
    kind: 'pglite',
    user: USER,
    password,
    async create(database) {
      const port = await serve(await PGlite.create());
      return { host: '127.0.0.1', port, database };
    },
    async query(at, sql, values) {
      const { db } = byPort(at.port);
      return (await db.query(sql, values as unknown[] | undefined)).rows as Record<
        string,
        unknown
      >[];
    },
    async snapshot(of, name) {
      const { db } = byPort(of.port);
      const copy = await PGlite.create({ loadDataDir: await db.dumpDataDir('none') });
      const port = await serve(copy);
      return { host: '127.0.0.1', port, database: name };
    },
    async stop() {
      for (const { server, db } of instances.splice(0)) {
        await server.stop();
        await db.close();
      }
    },
  };
  return local;
}
