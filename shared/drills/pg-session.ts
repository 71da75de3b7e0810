import pg from 'pg';
import type { Connect, SqlSession } from './smoke-checks.js';

// Smoke checks are short: a restored database that does not answer in these times is not ready.
const CONNECT_TIMEOUT_MS = 10_000;
const STATEMENT_TIMEOUT_MS = 60_000;

/**
 * Opens a PostgreSQL session with `pg`. With tls "require" the connection is encrypted (RDS
 * refuses plain connections by default) without checking the certificate chain: the drill
 * database is fresh, private and reached inside the VPC.
 */
export const connectPostgres: Connect = async (login) => {
  const client = new pg.Client({
    host: login.host,
    port: login.port,
    database: login.database,
    user: login.user,
    password: login.password,
    ssl: login.tls === 'require' ? { rejectUnauthorized: false } : false,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: STATEMENT_TIMEOUT_MS,
    application_name: 'lifeboat-drill',
  });
  // A dropped connection must not crash the process; the pending query rejects instead.
  client.on('error', () => undefined);
  await client.connect();
  const session: SqlSession = {
    async query(sql) {
      const result = await client.query({ text: sql, rowMode: 'array' });
      return result.rows as unknown[][];
    },
    async end() {
      await client.end();
    },
  };
  return session;
};
