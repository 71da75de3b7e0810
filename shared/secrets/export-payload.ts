import * as z from 'zod/mini';
import '../validation/zod.js';

export const EXPORT_FORMAT = 'lifeboat-secrets/1';

const SecretValueSchema = z.strictObject({
  name: z.string(),
  arn: z.string(),
  versionId: z.string(),
  description: z.nullable(z.string()),
  tags: z.array(z.strictObject({ Key: z.string(), Value: z.string() })),
  /** Exactly one of string and binary (base64) holds the value. */
  string: z.nullable(z.string()),
  binary: z.nullable(z.string()),
});

/** The plaintext of an export, which exists only in memory and inside the encrypted message. */
export const ExportPayloadSchema = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  runId: z.string(),
  policy: z.string(),
  region: z.string(),
  exportedAt: z.string(),
  secrets: z.array(SecretValueSchema),
});

export type ExportPayload = z.output<typeof ExportPayloadSchema>;
export type ExportedSecret = z.output<typeof SecretValueSchema>;

/** A decrypted export that is not one. Says where, never what the value was. */
export class ExportFormatError extends Error {
  constructor(why: string) {
    super(`decrypted export is not a Lifeboat secrets export: ${why}`);
    this.name = 'ExportFormatError';
  }
}

export function encodePayload(payload: ExportPayload): Buffer {
  return Buffer.from(JSON.stringify(payload), 'utf8');
}

/** Parses decrypted bytes. Errors name the field, never echo the input. */
export function decodePayload(plaintext: Uint8Array): ExportPayload {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(plaintext).toString('utf8'));
  } catch {
    throw new ExportFormatError('not JSON');
  }
  const result = ExportPayloadSchema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new ExportFormatError(`${issue?.path.join('.') || 'document'} is malformed`);
  }
  return result.data;
}

/** The value of an exported secret, as Secrets Manager takes it. */
export function secretValueOf(
  secret: ExportedSecret,
): { SecretString: string } | { SecretBinary: Uint8Array } {
  return secret.string !== null
    ? { SecretString: secret.string }
    : { SecretBinary: Buffer.from(secret.binary ?? '', 'base64') };
}
