import { DescribeKeyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { errorSummary, type JobLog } from '../observability/job-log.js';

/** What Lifeboat needs to know of a KMS key: who manages it, and whether it still decrypts. */
export interface KeyState {
  readonly arn: string;
  /** aws/rds and the like: RDS will not share what such a key encrypts. */
  readonly managedByAws: boolean;
  /** KMS's KeyState: Enabled, Disabled, PendingDeletion, ... */
  readonly state: string;
  readonly deletionDate?: Date;
}

/** Keys described once per run, each in its own region (the region its ARN names). */
export interface KeyBook {
  /** The key's state; undefined when KMS would not describe it (logged, not thrown). */
  describe(key: string): Promise<KeyState | undefined>;
}

/**
 * A run's key book: one DescribeKey per distinct key, asked of KMS in the key's region (or in
 * `region` for a key named without an ARN). A key that cannot be described is logged as a
 * warning: the calls that use it say whether it can be used.
 */
export function keyBook(
  kmsIn: (region: string) => KMSClient,
  region: string,
  log: JobLog,
): KeyBook {
  const known = new Map<string, Promise<KeyState | undefined>>();
  const describe = async (key: string): Promise<KeyState | undefined> => {
    const keyRegion = /^arn:[^:]+:kms:([^:]+):/.exec(key)?.[1] ?? region;
    try {
      const out = await kmsIn(keyRegion).send(new DescribeKeyCommand({ KeyId: key }));
      const meta = out.KeyMetadata;
      if (!meta?.KeyState) {
        log.warn('key not described', { key, error: 'KMS returned no key state' });
        return undefined;
      }
      return {
        arn: meta.Arn ?? key,
        managedByAws: meta.KeyManager === 'AWS',
        state: meta.KeyState,
        ...(meta.DeletionDate ? { deletionDate: meta.DeletionDate } : {}),
      };
    } catch (error) {
      log.warn('key not described', { key, error: errorSummary(error) });
      return undefined;
    }
  };
  return {
    describe: (key) => {
      let state = known.get(key);
      if (!state) {
        state = describe(key);
        known.set(key, state);
      }
      return state;
    },
  };
}

/**
 * Why what a key encrypts is at risk, in the user's words; undefined while the key decrypts.
 * Deleting a key destroys locked backups as surely as deleting them.
 */
export function keyRisk(key: KeyState): string | undefined {
  const deletion = key.deletionDate ? ` on ${key.deletionDate.toISOString().slice(0, 10)}` : '';
  switch (key.state) {
    case 'Enabled':
    case 'Creating':
    case 'Updating':
      return undefined;
    case 'Disabled':
      return 'is disabled: nothing it encrypts can be restored or copied until it is enabled again';
    case 'PendingDeletion':
    case 'PendingReplicaDeletion':
      return `is scheduled for deletion${deletion}: what it encrypts is lost for good then; cancel the deletion (CancelKeyDeletion) and enable the key`;
    case 'PendingImport':
      return 'has no key material (imported material deleted or expired): nothing it encrypts can be read until it is imported again';
    case 'Unavailable':
      return 'is unavailable (its custom key store is disconnected): nothing it encrypts can be read until it is connected again';
    default:
      return `is in state ${key.state}, not Enabled`;
  }
}
