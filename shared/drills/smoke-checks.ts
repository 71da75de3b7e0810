import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { type EngineFamily, engineFamily, familyName } from '../naming/engines.js';
import type { SmokeCheck } from '../policy/schema.js';
import { parseEvent } from '../validation/parse-event.js';
import type { Connect, SqlSession } from './database-session.js';
import {
  type CheckOutcome,
  type SmokeInput,
  SmokeInputSchema,
  type SmokeResult,
} from './drill-contract.js';

/** The restored database did not accept a connection (yet): worth retrying. */
export class SmokeConnectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmokeConnectionError';
  }
}

/** The checks cannot run as configured: the credentials secret is missing or malformed. */
export class SmokeConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SmokeConfigError';
  }
}

// Connection failures that a freshly available database can still show for a while: the
// network, a server still starting or shutting down, too many connections.
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  // PostgreSQL: cannot_connect_now (starting up), too_many_connections.
  '57P03',
  '53300',
  // MySQL and MariaDB: too many connections (server-wide, per user), shutting down, unavailable.
  'ER_CON_COUNT_ERROR',
  'ER_TOO_MANY_USER_CONNECTIONS',
  'ER_SERVER_SHUTDOWN',
  'ER_SERVER_OFFLINE_MODE',
]);

// Node's codes for a certificate that cannot be verified (mysql2 reports them all as
// HANDSHAKE_SSL_ERROR): never transient.
const CERTIFICATE_CODES =
  /^(HANDSHAKE_SSL_ERROR|ERR_TLS_CERT_ALTNAME_INVALID|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE|CERT_NOT_YET_VALID)$/;
const MAX_VALUE_LENGTH = 200;

/**
 * Runs the policy's smoke checks against the restored database, logging in with the source
 * database's credentials. A check that fails or errors fails the drill but not the others; a
 * database that cannot be reached raises SmokeConnectionError, which the state machine retries.
 */
export async function runSmokeChecks(
  deps: {
    readonly secrets: SecretsManagerClient;
    readonly connect: Connect;
    readonly now?: () => Date;
  },
  event: unknown,
): Promise<SmokeResult> {
  const input = parseEvent(SmokeInputSchema, event);
  const engine = checkedEngine(input);
  const { username, password } = await credentials(deps.secrets, input.check.credentialsSecret);
  let session: SqlSession;
  try {
    session = await deps.connect({
      engine,
      host: input.address,
      port: input.port,
      database: input.check.database,
      user: username,
      password,
      tls: input.check.tls,
    });
  } catch (error) {
    throw connectionFailure(error, input, engine);
  }
  const outcomes: CheckOutcome[] = [];
  let newestData: string | null = null;
  try {
    for (const check of input.check.checks) outcomes.push(await runCheck(session, check, engine));
    if (input.check.freshness !== null) {
      const freshness = await runFreshness(session, input.check.freshness, engine);
      outcomes.push(freshness.outcome);
      newestData = freshness.newest;
    }
  } finally {
    await session.end().catch(() => undefined);
  }
  const now = deps.now ?? (() => new Date());
  return {
    passed: outcomes.every((o) => o.passed),
    checks: outcomes,
    newestData,
    checkedAt: now().toISOString(),
  };
}

async function credentials(
  secrets: SecretsManagerClient,
  secretId: string,
): Promise<{ username: string; password: string }> {
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretId }));
  let parsed: unknown;
  try {
    parsed = JSON.parse(out.SecretString ?? '');
  } catch {
    parsed = undefined;
  }
  const login = parsed as { username?: unknown; password?: unknown } | undefined;
  if (typeof login?.username !== 'string' || typeof login.password !== 'string') {
    // Never echo the secret's content: name the secret and the shape it must have.
    throw new SmokeConfigError(
      `secret ${secretId} must be a JSON object with string fields username and password`,
    );
  }
  return { username: login.username, password: login.password };
}

/**
 * The engine family the checks run on: the restored database's. A database whose engine drills
 * cannot check, or whose checks the policy wrote for another engine, fails the drill (which then
 * tears down) without connecting.
 */
function checkedEngine(input: SmokeInput): EngineFamily {
  const family = engineFamily(input.engine);
  if (!family) {
    throw new SmokeConfigError(
      `the restored database runs ${input.engine}: smoke checks run on PostgreSQL, MySQL and MariaDB (RDS and Aurora)`,
    );
  }
  const written = input.check.engine === null ? undefined : engineFamily(input.check.engine);
  if (written && written !== family) {
    throw new SmokeConfigError(
      `the checks are written for ${input.check.engine} (${familyName(written)}), but the restored database runs ${input.engine} (${familyName(family)})`,
    );
  }
  return family;
}

function connectionFailure(error: unknown, input: SmokeInput, engine: EngineFamily): Error {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const where = `${input.address}:${input.port}/${input.check.database}`;
  if (typeof code === 'string' && CERTIFICATE_CODES.test(code)) {
    return new SmokeConfigError(
      `the server at ${where} did not prove it is the drill database (tls verify-full): ${message}`,
    );
  }
  if ((typeof code === 'string' && TRANSIENT_CODES.has(code)) || /timeout/i.test(message)) {
    return new SmokeConnectionError(`cannot connect to ${where}: ${message}`);
  }
  return new SmokeConfigError(`cannot log in to ${where}: ${engineError(error, engine)}`);
}

async function runCheck(
  session: SqlSession,
  check: SmokeCheck,
  engine: EngineFamily,
): Promise<CheckOutcome> {
  const expected = check.isTrue ? 'true' : `at least ${check.atLeast}`;
  let value: unknown;
  try {
    value = firstValue(await session.query(check.sql));
  } catch (error) {
    return {
      name: check.name,
      passed: false,
      expected,
      value: null,
      error: clip(engineError(error, engine)),
    };
  }
  const passed = check.isTrue ? isTrue(value) : toNumber(value) >= (check.atLeast ?? 0);
  return { name: check.name, passed, expected, value: reportable(value) };
}

async function runFreshness(
  session: SqlSession,
  sql: string,
  engine: EngineFamily,
): Promise<{ outcome: CheckOutcome; newest: string | null }> {
  const expected = 'the newest row’s time';
  let value: unknown;
  try {
    value = firstValue(await session.query(sql));
  } catch (error) {
    return {
      outcome: {
        name: 'freshness',
        passed: false,
        expected,
        value: null,
        error: clip(engineError(error, engine)),
      },
      newest: null,
    };
  }
  const time =
    value instanceof Date ? value : typeof value === 'string' ? new Date(value) : undefined;
  if (!time || Number.isNaN(time.getTime())) {
    return {
      outcome: {
        name: 'freshness',
        passed: false,
        expected,
        value: reportable(value),
        error: 'the query returned no timestamp',
      },
      newest: null,
    };
  }
  return {
    outcome: { name: 'freshness', passed: true, expected, value: time.toISOString() },
    newest: time.toISOString(),
  };
}

function firstValue(rows: unknown[][]): unknown {
  return rows[0]?.[0] ?? null;
}

function isTrue(value: unknown): boolean {
  return value === true || value === 't' || value === 'true' || value === 1;
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return Number(value);
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return Number.NaN;
}

function reportable(value: unknown): CheckOutcome['value'] {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH - 3)}...` : text;
}

/**
 * An engine's error in its own terms: PostgreSQL's SQLSTATE, MySQL's and MariaDB's error name and
 * number, then the server's message.
 */
export function engineError(error: unknown, engine: EngineFamily): string {
  const e = error as { code?: unknown; errno?: unknown; sqlMessage?: unknown } | undefined;
  const message =
    typeof e?.sqlMessage === 'string'
      ? e.sqlMessage
      : error instanceof Error
        ? error.message
        : String(error);
  const code = typeof e?.code === 'string' ? e.code : undefined;
  if (engine === 'postgres') {
    return code && /^[0-9A-Z]{5}$/.test(code) ? `PostgreSQL error ${code}: ${message}` : message;
  }
  if (code?.startsWith('ER_')) {
    return `${familyName(engine)} error ${code}${typeof e?.errno === 'number' ? ` (${e.errno})` : ''}: ${message}`;
  }
  return message;
}

function clip(text: string): string {
  return text.length > MAX_VALUE_LENGTH ? `${text.slice(0, MAX_VALUE_LENGTH - 3)}...` : text;
}
