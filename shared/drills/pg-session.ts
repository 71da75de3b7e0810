import {
  CONNECT_TIMEOUT_MS,
  type EngineConnect,
  type SqlSession,
  STATEMENT_TIMEOUT_MS,
} from './database-session.js';

/** Opens a PostgreSQL (or Aurora PostgreSQL) session with `pg`. */
export const openPostgres: EngineConnect = async (login, tls) => {
  // Loaded when a drill first connects to a PostgreSQL database: a cold start pays for one driver.
  const { default: pg } = await import('pg');
  const client = new pg.Client({
    host: login.host,
    port: login.port,
    database: login.database,
    user: login.user,
    password: login.password,
    ssl: tls ?? false,
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
