import { paginateListSecrets, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Policy } from '../policy/schema.js';

export type SecretSelection = NonNullable<Policy['secrets']>;

/** A secret the policy selects. */
export interface SelectedSecret {
  readonly name: string;
  readonly arn: string;
  readonly description: string | undefined;
  readonly tags: readonly { Key: string; Value: string }[];
}

/**
 * Every secret the policy selects: its name starts with one of the prefixes (when given) and it
 * carries every tag given (when given). Secrets scheduled for deletion are left out. One
 * ListSecrets call per 100 secrets.
 */
export async function selectSecrets(
  sm: SecretsManagerClient,
  selection: Pick<SecretSelection, 'namePrefixes' | 'tags'>,
): Promise<SelectedSecret[]> {
  const selected: SelectedSecret[] = [];
  const wantedTags = Object.entries(selection.tags ?? {});
  for await (const page of paginateListSecrets({ client: sm, pageSize: 100 }, {})) {
    for (const s of page.SecretList ?? []) {
      const name = s.Name ?? '';
      if (!s.ARN || s.DeletedDate) continue;
      if (selection.namePrefixes && !selection.namePrefixes.some((p) => name.startsWith(p)))
        continue;
      const tags = (s.Tags ?? []).map((t) => ({ Key: t.Key ?? '', Value: t.Value ?? '' }));
      if (!wantedTags.every(([k, v]) => tags.some((t) => t.Key === k && t.Value === v))) continue;
      selected.push({ name, arn: s.ARN, description: s.Description, tags });
    }
  }
  return selected.sort((a, b) => a.name.localeCompare(b.name));
}
