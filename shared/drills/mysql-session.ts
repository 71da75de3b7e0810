import type mysql from 'mysql2/promise';
import {
  CONNECT_TIMEOUT_MS,
  type EngineConnect,
  type SqlSession,
  STATEMENT_TIMEOUT_MS,
} from './database-session.js';

/**
 * Opens a MySQL, MariaDB or Aurora MySQL session with `mysql2`. Times are read and compared in
 * UTC: DATETIME values are taken as UTC, and the session's time zone is UTC for TIMESTAMPs.
 */
export const openMysql: EngineConnect = async (login, tls) => {
  // Loaded when a drill first connects to a MySQL database: a cold start pays for one driver.
  const { createConnection } = await import('mysql2/promise');
  const connection = await createConnection({
    host: login.host,
    port: login.port,
    database: login.database,
    user: login.user,
    password: login.password,
    // verify-full checks the server's name too (mysql2 checks names only when asked).
    ...(tls
      ? { ssl: { ...tls, verifyIdentity: tls.rejectUnauthorized === true } as mysql.SslOptions }
      : {}),
    connectTimeout: CONNECT_TIMEOUT_MS,
    timezone: 'Z',
    dateStrings: false,
    supportBigNumbers: true,
    bigNumberStrings: false,
    connectAttributes: { program_name: 'lifeboat-drill' },
  });
  // A dropped connection must not crash the process; the pending query rejects instead.
  connection.on('error', () => undefined);
  try {
    await connection.query("SET time_zone = '+00:00'");
  } catch (error) {
    await connection.end().catch(() => undefined);
    throw error;
  }
  const session: SqlSession = {
    async query(sql) {
      const [rows] = await connection.query({
        sql,
        rowsAsArray: true,
        timeout: STATEMENT_TIMEOUT_MS,
      });
      // A statement that returns no rows (SET, DO) answers an OkPacket: no rows.
      return Array.isArray(rows) ? (rows as unknown[][]) : [];
    },
    async end() {
      await connection.end();
    },
  };
  return session;
};
