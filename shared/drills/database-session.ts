import type { ConnectionOptions } from 'node:tls';
import type { EngineFamily } from '../naming/engines.js';

/**
 * How a drill's connection is protected:
 * - verify-full: encrypted, and the server's certificate is checked against the trusted
 *   certificate authorities (the RDS bundle) and the host name: it proves which server answers.
 * - require: encrypted, the certificate unchecked: safe from eavesdropping, not from a server
 *   posing as the drill database.
 * - disable: plain text (local databases only).
 */
export type TlsMode = 'verify-full' | 'require' | 'disable';

// Smoke checks are short: a restored database that does not answer in these times is not ready.
export const CONNECT_TIMEOUT_MS = 10_000;
export const STATEMENT_TIMEOUT_MS = 60_000;

/** Where to connect and as whom; the password stays in memory. */
export interface DatabaseLogin {
  readonly engine: EngineFamily;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  readonly tls: TlsMode;
}

/** An open database session that answers rows as arrays. */
export interface SqlSession {
  query(sql: string): Promise<unknown[][]>;
  end(): Promise<void>;
}

export type Connect = (login: DatabaseLogin) => Promise<SqlSession>;

/** Opens one engine's sessions, trusting the given certificate authorities for verify-full. */
export type EngineConnect = (
  login: DatabaseLogin,
  tls: ConnectionOptions | undefined,
) => Promise<SqlSession>;

/** The TLS options for a mode: undefined for plain text. */
export function tlsOptions(
  mode: TlsMode,
  trusted: readonly string[],
): ConnectionOptions | undefined {
  if (mode === 'disable') return undefined;
  if (mode === 'require') return { rejectUnauthorized: false };
  // Node checks the certificate's names against the host connected to.
  return { ca: [...trusted], rejectUnauthorized: true };
}

/**
 * A Connect that opens each login with its engine's driver, trusting `trusted` (PEM
 * certificates) when the login asks for verify-full.
 */
export function connectByEngine(
  engines: Readonly<Record<EngineFamily, EngineConnect>>,
  trusted: readonly string[],
): Connect {
  return (login) => engines[login.engine](login, tlsOptions(login.tls, trusted));
}
