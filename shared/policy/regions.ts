import type { Policy } from './schema.js';

/** The region of the vault account's copies: the policy's choice, or the DR region. */
export function vaultRegionOf(
  policy: Pick<Policy, 'regions'> & { readonly vault?: { readonly region?: string | undefined } },
): string {
  return policy.vault?.region ?? policy.regions.dr;
}

/**
 * The region drills restore in: the primary's, the DR region's, or for drills of the vault's
 * copies the vault's region (a copy shared back is restored in this account there).
 */
export function drillRegionOf(policy: Policy): string {
  const site = policy.drills?.site ?? 'primary';
  if (site === 'vault') return vaultRegionOf(policy);
  return policy.regions[site];
}

/** Which of the policy's two stacks runs the drills: the one deployed in the drill region. */
export function drillStackOf(policy: Policy): 'primary' | 'dr' {
  return drillRegionOf(policy) === policy.regions.primary ? 'primary' : 'dr';
}
