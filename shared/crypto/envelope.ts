import { buildDecrypt } from '@aws-crypto/decrypt-node';
import { buildEncrypt } from '@aws-crypto/encrypt-node';
// The package index also loads the hierarchical keyring and with it a DynamoDB client (400 KB
// in every bundle); the KMS keyring alone is all Lifeboat uses.
import { KmsKeyringNode } from '@aws-crypto/kms-keyring-node/build/main/src/kms_keyring_node.js';
import { CommitmentPolicy } from '@aws-crypto/material-management-node';
import { KMS } from '@aws-sdk/client-kms';
import { clientIn } from '../aws/clients.js';

const { encrypt } = buildEncrypt(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
const { decrypt } = buildDecrypt(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

// The Encryption SDK calls KMS through the method-style client; one per region, shared.
const kmsForKeyring = (region: string) => clientIn(KMS, region);

/** A message's encryption context differs from the one its manifest records. */
export class EncryptionContextMismatchError extends Error {
  constructor(key: string) {
    super(`encryption context ${key} does not match the manifest`);
    this.name = 'EncryptionContextMismatchError';
  }
}

/**
 * Encrypts one message with one data key: generated under `generatorKey` and also encrypted
 * under each of `alsoFor` (the DR replica), so either region can decrypt it alone. The context is
 * bound to the message and checked on decryption.
 */
export async function encryptMessage(
  plaintext: Uint8Array,
  generatorKey: string,
  alsoFor: readonly string[],
  encryptionContext: Readonly<Record<string, string>>,
): Promise<Buffer> {
  const keyring = new KmsKeyringNode({
    generatorKeyId: generatorKey,
    keyIds: [...alsoFor],
    clientProvider: kmsForKeyring,
  });
  const { result } = await encrypt(keyring, plaintext, {
    encryptionContext: { ...encryptionContext },
  });
  return result;
}

/**
 * Decrypts a message with the data key encrypted under `keyArn` (the key of the region doing the
 * work), and checks that its encryption context holds every expected pair.
 */
export async function decryptMessage(
  ciphertext: Uint8Array,
  keyArn: string,
  expectedContext: Readonly<Record<string, string>>,
  /** KMS as another identity (the vault account's, opening its copy); default: this one's. */
  kmsIn: (region: string) => KMS = kmsForKeyring,
): Promise<Buffer> {
  const keyring = new KmsKeyringNode({ keyIds: [keyArn], clientProvider: kmsIn });
  const { plaintext, messageHeader } = await decrypt(keyring, ciphertext);
  for (const [key, value] of Object.entries(expectedContext)) {
    if (messageHeader.encryptionContext[key] !== value) {
      plaintext.fill(0);
      throw new EncryptionContextMismatchError(key);
    }
  }
  return plaintext;
}
