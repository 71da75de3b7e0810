import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SmokeCheck } from '../policy/schema.js';
import { parseEvent } from '../validation/parse-event.js';
import {
  type CheckOutcome,
  type SmokeInput,
  SmokeInputSchema,
  type SmokeResult,
} from './drill-contract.js';

/** Where to connect and as whom; the password stays in memory. */
export interface DatabaseLogin {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  readonly password: string;
  readonly tls: 'require' | 'disable';
}

/** An open database session that answers rows as arrays. */
export interface SqlSession {
  query(sql: string): Promise<unknown[][]>;
  end(): Promise<void>;
}

export type Connect = (login: DatabaseLogin) => Promise<SqlSession>;

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

// Connection failures that a freshly available database can still show for a while.
const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  '57P03',
]);
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
  const { username, password } = await credentials(deps.secrets, input.check.credentialsSecret);
  let session: SqlSession;
  try {
    session = await deps.connect({
      host: input.address,
      port: input.port,
      database: input.check.database,
      user: username,
      password,
      tls: input.check.tls,
    });
  } catch (error) {
    throw connectionFailure(error, input);
  }
  const outcomes: CheckOutcome[] = [];
  let newestData: string | null = null;
  try {
    for (const check of input.check.checks) outcomes.push(await runCheck(session, check));
    if (input.check.freshness !== null) {
      const freshness = await runFreshness(session, input.check.freshness);
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

function connectionFailure(error: unknown, input: SmokeInput): Error {
  const code = (error as { code?: unknown } | undefined)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const where = `${input.address}:${input.port}/${input.check.database}`;
  if ((typeof code === 'string' && TRANSIENT_CODES.has(code)) || /timeout/i.test(message)) {
    return new SmokeConnectionError(`cannot connect to ${where}: ${message}`);
  }
  return new SmokeConfigError(`cannot log in to ${where}: ${message}`);
}

async function runCheck(session: SqlSession, check: SmokeCheck): Promise<CheckOutcome> {
  const expected = check.isTrue ? 'true' : `at least ${check.atLeast}`;
  let value: unknown;
  try {
    value = firstValue(await session.query(check.sql));
  } catch (error) {
    return { name: check.name, passed: false, expected, value: null, error: queryError(error) };
  }
  const passed = check.isTrue ? isTrue(value) : toNumber(value) >= (check.atLeast ?? 0);
  return { name: check.name, passed, expected, value: reportable(value) };
}

async function runFreshness(
  session: SqlSession,
  sql: string,
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
        error: queryError(error),
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

function queryError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.length > MAX_VALUE_LENGTH
    ? `${message.slice(0, MAX_VALUE_LENGTH - 3)}...`
    : message;
}
