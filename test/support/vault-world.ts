import { createHash, createHmac, randomBytes } from 'node:crypto';
import {
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateMacCommand,
  KMSClient,
  KMSInvalidMacException,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { canonicalJson } from '../../shared/manifest/canonical-json.js';
import type { Vault } from '../../shared/vault/vault.js';
import type { Around } from './rds-world.js';

const directly: Around = (_operation, effect) => effect();

export const TEST_VAULT: Vault = {
  bucket: 'lb-test-policy-123456789012-eu-central-1',
  dataKeys: {
    primary: 'arn:aws:kms:eu-central-1:123456789012:key/mrk-data',
    dr: 'arn:aws:kms:eu-west-1:123456789012:key/mrk-data',
  },
  manifestKeys: {
    primary: 'arn:aws:kms:eu-central-1:123456789012:key/mrk-mac',
    dr: 'arn:aws:kms:eu-west-1:123456789012:key/mrk-mac',
  },
};

/** The environment a deployed function gets for TEST_VAULT. */
export const TEST_VAULT_ENV = {
  BACKUP_BUCKET: TEST_VAULT.bucket,
  DATA_KEY_ARN: TEST_VAULT.dataKeys.primary,
  DR_DATA_KEY_ARN: TEST_VAULT.dataKeys.dr,
  MANIFEST_KEY_ARN: TEST_VAULT.manifestKeys.primary,
  DR_MANIFEST_KEY_ARN: TEST_VAULT.manifestKeys.dr,
};

export interface StoredObject {
  body: Buffer;
  sha256: string | undefined;
}

interface Version extends StoredObject {
  versionId: string;
}

/**
 * Objects by key in one versioned bucket: the Map holds each key's current object, as tests read
 * and tamper with it; every set() adds a version and every delete() a delete marker, as S3 with
 * versioning does.
 */
export class Bucket extends Map<string, StoredObject> {
  readonly history = new Map<string, (Version | { versionId: string; deleteMarker: true })[]>();
  private counter = 0;

  override set(key: string, object: StoredObject): this {
    super.set(key, object);
    this.counter += 1;
    // Map's constructor calls set() before this class's fields exist.
    const history = this.history ?? new Map();
    const list = history.get(key) ?? [];
    list.push({ ...object, versionId: `v${this.counter}` });
    history.set(key, list);
    return this;
  }

  override delete(key: string): boolean {
    const had = super.delete(key);
    this.counter += 1;
    const list = this.history.get(key) ?? [];
    list.push({ versionId: `v${this.counter}`, deleteMarker: true });
    this.history.set(key, list);
    return had;
  }

  /** One version of a key, or undefined when there is none of that id. */
  version(key: string, versionId: string): StoredObject | undefined {
    const found = this.history.get(key)?.find((v) => v.versionId === versionId);
    return found && !('deleteMarker' in found) ? found : undefined;
  }
}

function body(bytes: Buffer) {
  return {
    transformToByteArray: async () => new Uint8Array(bytes),
    transformToString: async () => bytes.toString('utf8'),
  } as never;
}

/**
 * Backs every S3Client with an in-memory versioned bucket: PutObject (If-None-Match, stored
 * SHA-256), HeadObject (ChecksumMode), GetObject (VersionId), DeleteObject (a delete marker),
 * ListObjectsV2 and ListObjectVersions.
 */
export function simulateS3(bucket: Bucket = new Bucket(), around: Around = directly) {
  const stub = mockClient(S3Client);
  const notFound = () => new NotFound({ message: 'Not Found', $metadata: { httpStatusCode: 404 } });
  stub.on(PutObjectCommand).callsFake((input) =>
    around('PutObject', () => {
      if (input.IfNoneMatch === '*' && bucket.has(input.Key)) {
        throw new S3ServiceException({
          name: 'PreconditionFailed',
          $fault: 'client',
          $metadata: { httpStatusCode: 412 },
        });
      }
      const bytes = Buffer.from(input.Body as Uint8Array);
      bucket.set(input.Key, { body: bytes, sha256: input.ChecksumSHA256 });
      return { ETag: '"etag"' };
    }),
  );
  stub.on(HeadObjectCommand).callsFake((input) =>
    around('HeadObject', () => {
      const object = bucket.get(input.Key);
      if (!object) throw notFound();
      return {
        ContentLength: object.body.byteLength,
        ...(input.ChecksumMode === 'ENABLED' && object.sha256
          ? { ChecksumSHA256: object.sha256 }
          : {}),
      };
    }),
  );
  stub.on(GetObjectCommand).callsFake((input) =>
    around('GetObject', () => {
      const object = input.VersionId
        ? bucket.version(input.Key, input.VersionId)
        : bucket.get(input.Key);
      if (!object)
        throw new NoSuchKey({ message: 'no such key', $metadata: { httpStatusCode: 404 } });
      return { Body: body(object.body), ContentLength: object.body.byteLength };
    }),
  );
  stub.on(DeleteObjectCommand).callsFake((input) =>
    around('DeleteObject', () => {
      bucket.delete(input.Key);
      return { DeleteMarker: true };
    }),
  );
  stub.on(ListObjectsV2Command).callsFake((input) =>
    around('ListObjectsV2', () => ({
      Contents: [...bucket.keys()]
        .filter((k) => k.startsWith(input.Prefix ?? ''))
        .sort()
        .map((Key) => ({ Key })),
      IsTruncated: false,
    })),
  );
  stub.on(ListObjectVersionsCommand).callsFake((input) =>
    around('ListObjectVersions', () => {
      const keys = [...bucket.history.keys()]
        .filter((k) => k.startsWith(input.Prefix ?? ''))
        .sort();
      const versions = [];
      const markers = [];
      for (const key of keys) {
        const list = bucket.history.get(key) ?? [];
        // Newest first, as S3 lists them.
        for (const [i, v] of [...list.entries()].reverse()) {
          const entry = { Key: key, VersionId: v.versionId, IsLatest: i === list.length - 1 };
          if ('deleteMarker' in v) markers.push(entry);
          else versions.push(entry);
        }
      }
      return { Versions: versions, DeleteMarkers: markers, IsTruncated: false };
    }),
  );
  return { stub, bucket };
}

// A multi-Region key and its replica share key material; so do these, by key id.
const material = new Map<string, Buffer>();
function keyMaterial(keyArn: string): Buffer {
  const id = keyArn.split('/').pop() ?? keyArn;
  let m = material.get(id);
  if (!m) {
    m = createHash('sha256').update(`test-key-${id}`).digest();
    material.set(id, m);
  }
  return m;
}

/**
 * Backs every KMSClient (and KMS) with a stand-in: MACs are HMAC-SHA-256 under per-key material,
 * data keys are random and "encrypted" by wrapping them with the key's id and context. It is a
 * test double, not cryptography.
 */
export function simulateKms(around: Around = directly) {
  const stub = mockClient(KMSClient);
  const contextText = (context: Record<string, string> | undefined) => canonicalJson(context ?? {});
  const wrap = (
    keyId: string,
    plaintext: Uint8Array,
    context: Record<string, string> | undefined,
  ) =>
    Buffer.from(
      JSON.stringify({
        keyId,
        plaintext: Buffer.from(plaintext).toString('base64'),
        context: contextText(context),
      }),
    );
  stub.on(GenerateMacCommand).callsFake((input) =>
    around('GenerateMac', () => ({
      KeyId: input.KeyId,
      MacAlgorithm: input.MacAlgorithm,
      Mac: createHmac('sha256', keyMaterial(input.KeyId))
        .update(Buffer.from(input.Message))
        .digest(),
    })),
  );
  stub.on(VerifyMacCommand).callsFake((input) =>
    around('VerifyMac', () => {
      const expected = createHmac('sha256', keyMaterial(input.KeyId))
        .update(Buffer.from(input.Message))
        .digest();
      if (!expected.equals(Buffer.from(input.Mac))) {
        throw new KMSInvalidMacException({ message: 'invalid MAC', $metadata: {} });
      }
      return { KeyId: input.KeyId, MacValid: true };
    }),
  );
  stub.on(GenerateDataKeyCommand).callsFake((input) =>
    around('GenerateDataKey', () => {
      const plaintext = randomBytes(input.NumberOfBytes ?? 32);
      return {
        KeyId: input.KeyId,
        Plaintext: plaintext,
        CiphertextBlob: wrap(input.KeyId, plaintext, input.EncryptionContext),
      };
    }),
  );
  stub.on(EncryptCommand).callsFake((input) =>
    around('Encrypt', () => ({
      KeyId: input.KeyId,
      CiphertextBlob: wrap(input.KeyId, input.Plaintext, input.EncryptionContext),
    })),
  );
  // Aliases name TEST_VAULT's keys, in each region its own; a key named by its ARN is a
  // customer-managed key, enabled.
  stub.on(DescribeKeyCommand).callsFake(async (input, getClient) => {
    const key = String(input.KeyId);
    const enabled = { KeyState: 'Enabled' as const, KeyManager: 'CUSTOMER' as const };
    if (key.startsWith('arn:') && !key.includes(':alias/')) {
      return { KeyMetadata: { KeyId: key.split('/').pop(), Arn: key, ...enabled } };
    }
    const region = await getClient().config.region();
    const site = region === 'eu-west-1' ? 'dr' : 'primary';
    const purpose = key.endsWith('-manifest') ? 'manifestKeys' : 'dataKeys';
    return { KeyMetadata: { KeyId: 'id', Arn: TEST_VAULT[purpose][site], ...enabled } };
  });
  stub.on(DecryptCommand).callsFake((input) =>
    around('Decrypt', () => {
      const wrapped = JSON.parse(Buffer.from(input.CiphertextBlob).toString('utf8'));
      if (
        input.KeyId !== wrapped.keyId ||
        contextText(input.EncryptionContext) !== wrapped.context
      ) {
        throw new Error('InvalidCiphertextException');
      }
      return { KeyId: wrapped.keyId, Plaintext: Buffer.from(wrapped.plaintext, 'base64') };
    }),
  );
  return stub;
}

/** The caller's account, as STS tells the CLI. */
export function simulateAccount(account = '123456789012') {
  const stub = mockClient(STSClient);
  stub.on(GetCallerIdentityCommand).resolves({ Account: account });
  return stub;
}
