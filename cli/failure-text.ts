import { EXIT } from './cli-errors.js';

/** What the command says when it stops, and the exit code it stops with. */
export interface Failure {
  readonly message: string;
  readonly code: number;
}

// Errors that carry Lifeboat's own words, by name (matched by name so that the command's start
// loads none of the modules that define them).
const BAD_INPUT = new Set([
  'PolicyError',
  'UsageError',
  'ManifestNotFoundError',
  'UnknownSecretError',
  'RebuildReplicaError',
  'StackNotDeployedError',
  'DrillConfigError',
]);
const FAILED = new Set(['RestoreRefusedError', 'ExportTamperedError', 'NoRestorePointError']);
const CANNOT_RUN = new Set(['MotoMissingError']);

const CREDENTIALS = new Set([
  'CredentialsProviderError',
  'ExpiredTokenException',
  'ExpiredToken',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'TokenRefreshRequired',
]);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
]);
const DENIED = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'AuthorizationError',
  'AuthorizationErrorException',
]);

interface AwsLike {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly $metadata?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown[];
}

/**
 * How a command's failure reads: Lifeboat's own errors as they are; the common AWS failures (no
 * credentials, no network, access denied, a stack not deployed) in words a person can act on,
 * never the SDK's text or a stack trace.
 */
export function failureText(error: unknown, env: NodeJS.ProcessEnv = process.env): Failure {
  const e = (error ?? {}) as AwsLike;
  const name = e.name ?? '';
  const message = e.message ?? String(error);
  if (BAD_INPUT.has(name)) return { message, code: EXIT.badInput };
  if (FAILED.has(name)) return { message, code: EXIT.failed };
  if (CANNOT_RUN.has(name)) return { message, code: EXIT.cannotRun };

  const where = env.AWS_ENDPOINT_URL
    ? `the AWS endpoint ${env.AWS_ENDPOINT_URL}`
    : `AWS${env.AWS_REGION ? ` in ${env.AWS_REGION}` : ''}`;
  const credentials = credentialsProblem(error);
  if (credentials) {
    return {
      message: `no usable AWS credentials (${credentials}): set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or sign in again (aws sso login)`,
      code: EXIT.cannotRun,
    };
  }
  const network = networkCode(e);
  if (network) {
    return {
      message: `cannot reach ${where} (${network}): check the network, AWS_REGION and AWS_ENDPOINT_URL`,
      code: EXIT.cannotRun,
    };
  }
  if (DENIED.has(name) || /not authorized to perform/i.test(message)) {
    return { message: deniedText(message), code: EXIT.cannotRun };
  }
  if (name === 'NoSuchBucket') {
    return {
      message:
        'the backup bucket does not exist: deploy the stack for this policy (npx sls deploy), or name the bucket with --bucket',
      code: EXIT.badInput,
    };
  }
  // An AWS service's answer is named by its error code (AWS's word for it); Lifeboat's own
  // errors say what happened in their message, and their class names are nobody's business.
  const answered = e.$metadata !== undefined && name && name !== 'Error';
  return {
    message: `could not run: ${answered ? `AWS answered ${name}: ` : ''}${firstLine(message)}`,
    code: EXIT.cannotRun,
  };
}

/** Why AWS credentials could not be used, or undefined when the failure is not theirs. */
export function credentialsProblem(error: unknown): string | undefined {
  const e = (error ?? {}) as AwsLike;
  const name = e.name ?? '';
  if (!CREDENTIALS.has(name) && !/Could not load credentials/i.test(e.message ?? '')) {
    return undefined;
  }
  return describeCredentialsProblem(name);
}

function describeCredentialsProblem(name: string): string {
  if (
    name === 'ExpiredTokenException' ||
    name === 'ExpiredToken' ||
    name === 'TokenRefreshRequired'
  )
    return 'the session has expired';
  if (name === 'CredentialsProviderError') return 'none were found';
  return 'AWS does not accept them';
}

function networkCode(e: AwsLike): string | undefined {
  const seen = new Set<unknown>();
  let current: AwsLike | undefined = e;
  while (current && !seen.has(current)) {
    seen.add(current);
    for (const candidate of [current.code, current.name]) {
      if (typeof candidate === 'string' && NETWORK.has(candidate)) return candidate;
    }
    const inMessage = /\b(E[A-Z]{4,}[A-Z_]*)\b/.exec(current.message ?? '')?.[1];
    if (inMessage && NETWORK.has(inMessage)) return inMessage;
    const nested = current.errors?.[0] as AwsLike | undefined;
    current = (current.cause as AwsLike | undefined) ?? nested;
  }
  return undefined;
}

/** "User: arn... is not authorized to perform: rds:X on resource: Y ..." in Lifeboat's words. */
function deniedText(message: string): string {
  const match =
    /User: (\S+) is not authorized to perform: (\S+?)(?: on resource: (\S+?))?(?: because| with|\.|$)/i.exec(
      message,
    );
  if (!match) {
    return 'access denied by AWS: the credentials in use may not do what this command needs (see the README for the permissions each command uses)';
  }
  const [, principal, action, resource] = match;
  return `access denied: ${principal} may not ${action}${resource ? ` on ${resource}` : ''}; grant it to that role or user, or use credentials that have it`;
}

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').slice(0, 300);
}
