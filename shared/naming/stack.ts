/** The names the stack gives what it deploys: the bucket, the key aliases, the state machines. */

/** The backup bucket's name: the stack creates it so, in the primary region. */
export function backupBucketName(policyName: string, account: string, region: string): string {
  return `lb-${policyName}-${account}-${region}`;
}

/** The alias of a policy's key; the same alias names the replica in the DR region. */
export function keyAlias(policyName: string, purpose: 'data' | 'manifest'): string {
  return `alias/lifeboat-${policyName}-${purpose}`;
}

/** The stage `serverless deploy` uses unless told; state machine names carry it. */
export const DEFAULT_STAGE = 'prod';

/** The deployed name of a state machine, which the CLI starts executions of. */
/** The state machines Lifeboat deploys, by the name of their ASL file. */
export type StateMachineName = 'restore-drill' | 'regional-failover';

export function stateMachineName(stage: string, machine: StateMachineName): string {
  return `lifeboat-${stage}-${machine}`;
}
