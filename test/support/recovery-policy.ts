import { readFileSync } from 'node:fs';
import { parsePolicyText } from '../../shared/policy/policy-file.js';
import type { Policy } from '../../shared/policy/schema.js';

/** What the recovery tests seed, filled into test/fixtures/recovery.policy.yml. */
export interface RecoverySeeds {
  readonly subnetGroup: string;
  readonly securityGroup: string;
  readonly minOrders?: number;
  /** How drills connect (default disable: PGlite, where the machine has no PostgreSQL, has no TLS). */
  readonly tls?: 'verify-full' | 'require' | 'disable';
  /** The engine shop-db's checks say they are written for (default mysql). */
  readonly shopChecksEngine?: string;
  /** Failover settings; tests that only drill leave them out. */
  readonly zone?: string;
  readonly primaryHealthUrl?: string;
  readonly drHealthUrl?: string;
}

/** The recovery test policy as YAML, with the seeded values in place. */
export function recoveryPolicyText(seeds: RecoverySeeds): string {
  return readFileSync('test/fixtures/recovery.policy.yml', 'utf8')
    .replace('SUBNET_GROUP', seeds.subnetGroup)
    .replace('SECURITY_GROUP', seeds.securityGroup)
    .replace('MIN_ORDERS', String(seeds.minOrders ?? 1))
    .replace('TLS_MODE', seeds.tls ?? 'disable')
    .replace('SHOP_CHECKS_ENGINE', seeds.shopChecksEngine ?? 'mysql')
    .replace('HOSTED_ZONE', seeds.zone ?? 'Z00000000000000000000')
    .replace('PRIMARY_HEALTH_URL', seeds.primaryHealthUrl ?? 'http://127.0.0.1:9/primary')
    .replace('DR_HEALTH_URL', seeds.drHealthUrl ?? 'http://127.0.0.1:9/dr');
}

/** The recovery test policy, validated. */
export function recoveryPolicy(seeds: RecoverySeeds): Policy {
  return parsePolicyText(recoveryPolicyText(seeds), 'recovery.policy.yml');
}
