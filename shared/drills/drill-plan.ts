import type { RegionalRds } from '../aws/clients.js';
import { boundedIdentifier, ownVaultCopy } from '../naming/slot.js';
import {
  DRILL_PREFIX,
  DRILL_RESTORED_FROM_TAG,
  DRILL_STARTED_TAG,
  DRILL_TAG,
  TAG,
} from '../naming/tags.js';
import { parseDuration, secondsFrom, subtractDuration } from '../policy/duration.js';
import type { DrillPolicy, Policy } from '../policy/schema.js';
import { objectivesOf } from '../policy/tiers.js';
import {
  listManualSnapshots,
  type SnapshotKind,
  type SnapshotRecord,
  setSnapshotShared,
} from '../rds/snapshots.js';
import { parseEvent } from '../validation/parse-event.js';
import type { VaultAccount } from '../vault-account/vault-account.js';
import {
  type DrillInput,
  DrillInputSchema,
  type DrillPlan,
  type DrillStart,
  DrillStartSchema,
} from './drill-contract.js';
import { DrillConfigError, NoRestorePointError } from './drill-errors.js';
import { pickPointInTime } from './point-in-time.js';

const MAX_TEARDOWNS = 10;

/** The drills section of a policy, or an error saying it has none. */
export function drillPolicyOf(policy: Policy): DrillPolicy {
  if (!policy.drills) throw new DrillConfigError(`policy ${policy.name} has no drills section`);
  return policy.drills;
}

/**
 * Plans a drill of one database in the region `rds` talks to: picks the restore point (the
 * newest verified one, a random one within the window, or the one named) and names the
 * temporary database after the drill.
 */
export async function planDrill(
  deps: {
    readonly rds: RegionalRds;
    readonly alertTopicArn: string;
    readonly random?: () => number;
    /** The vault account (site vault), and this account, which its copy is shared with. */
    readonly vault?: { readonly account: VaultAccount; readonly ownAccount: () => Promise<string> };
  },
  policy: Policy,
  event: unknown,
  startedAt: Date,
): Promise<DrillPlan> {
  const input = parseEvent(DrillInputSchema, event);
  const drills = drillPolicyOf(policy);
  const database = drills.databases[input.target];
  if (!database) {
    throw new DrillConfigError(
      `no drill is configured for ${input.target}; the policy drills ${Object.keys(drills.databases).join(', ')}`,
    );
  }
  const pick = input.pick ?? drills.pick;
  const chosen =
    drills.site === 'vault'
      ? await vaultRestore(deps, policy, input, startedAt)
      : pick === 'point-in-time' && input.snapshotId === undefined
        ? await pointInTimeRestore(deps, policy, input.target, startedAt)
        : await snapshotRestore(deps, policy, input, startedAt);
  const selector = policy.targets.find((t) => t.identifier === input.target);
  const objectives = objectivesOf(policy, { tier: selector?.tier });
  const stamp = startedAt.toISOString().slice(2, 19).replace(/[-T:]/g, '');
  const drillId = boundedIdentifier(DRILL_PREFIX, input.target, stamp);
  // An Aurora drill restores a cluster and then adds its one instance.
  const instanceId =
    chosen.kind === 'cluster'
      ? boundedIdentifier(DRILL_PREFIX, input.target, `${stamp}-w`)
      : drillId;
  const timeoutSeconds = secondsFrom(startedAt, drills.timeout);
  return {
    drillId,
    policy: policy.name,
    target: input.target,
    kind: chosen.kind,
    region: deps.rds.region,
    startedAt: startedAt.toISOString(),
    snapshot: chosen.snapshot,
    restore: chosen.pointInTime ? 'point-in-time' : 'snapshot',
    pointInTime: chosen.pointInTime,
    objectives: objectives
      ? {
          tier: objectives.tier,
          rpoSeconds: objectives.rpoSeconds,
          rtoSeconds: objectives.rtoSeconds,
        }
      : null,
    engine: chosen.engine,
    instanceId,
    clusterId: chosen.kind === 'cluster' ? drillId : null,
    instanceClass: drills.instanceClass,
    network: {
      subnetGroup: drills.network.subnetGroup,
      securityGroupIds: [...drills.network.securityGroupIds],
    },
    tags: [
      { Key: TAG.managed, Value: 'true' },
      { Key: TAG.policy, Value: policy.name },
      { Key: TAG.target, Value: input.target },
      { Key: DRILL_TAG, Value: drillId },
      { Key: DRILL_STARTED_TAG, Value: startedAt.toISOString() },
      { Key: DRILL_RESTORED_FROM_TAG, Value: chosen.snapshot.id },
    ],
    pollSeconds: drills.pollSeconds,
    maxPolls: Math.max(1, Math.ceil(timeoutSeconds / drills.pollSeconds)),
    maxTeardowns: MAX_TEARDOWNS,
    alertTopicArn: deps.alertTopicArn,
    check: {
      database: database.database,
      credentialsSecret: database.credentialsSecret,
      engine: database.engine ?? null,
      checks: database.checks,
      freshness: database.freshness ?? null,
      tls: drills.tls,
    },
    vaultCopy: chosen.vaultCopy ?? null,
  };
}

/** What a drill restores: the restore point as the report names it, and how RDS restores it. */
interface Chosen {
  readonly kind: SnapshotKind;
  readonly engine: string;
  readonly snapshot: DrillPlan['snapshot'];
  readonly pointInTime: DrillPlan['pointInTime'];
  readonly vaultCopy?: DrillPlan['vaultCopy'];
}

/**
 * A drill of the vault's copy: picks the copy in the vault account (the newest, a random one
 * within the window, or the one named), and shares it with this account, where the drill
 * restores it by its ARN. The Report task ends the share.
 */
async function vaultRestore(
  deps: Parameters<typeof planDrill>[0],
  policy: Policy,
  input: DrillInput,
  startedAt: Date,
): Promise<Chosen> {
  const drills = drillPolicyOf(policy);
  if (!deps.vault || !policy.vault) {
    throw new DrillConfigError('drills at site vault need the policy’s vault section');
  }
  if (input.pick === 'point-in-time') {
    throw new DrillConfigError(
      'a point-in-time drill cannot run at site vault: the vault holds snapshot copies only',
    );
  }
  const { account: vault } = deps.vault;
  const ownAccount = await deps.vault.ownAccount();
  const targets = [
    { kind: 'instance', identifier: input.target },
    { kind: 'cluster', identifier: input.target },
  ];
  const copies = (await listManualSnapshots(vault.rds)).flatMap((s) => {
    const own = ownVaultCopy(s, ownAccount, targets);
    return own && s.status === 'available'
      ? [{ ...s, target: input.target, time: own.slot.time }]
      : [];
  });
  // The vault's copies carry no verification of their own: latest-verified takes the newest.
  const chosen = pickRestorePoint(
    copies.map((c) => ({ ...c, verifiedAt: c.verifiedAt ?? c.time })),
    input,
    drills,
    startedAt,
    deps.random ?? Math.random,
    `the vault account ${vault.account}`,
  );
  await setSnapshotShared(vault.rds, chosen.kind, chosen.id, ownAccount, true);
  return {
    ...fromSnapshot(chosen, null),
    vaultCopy: {
      account: vault.account,
      roleArn: policy.vault.roleArn,
      kind: chosen.kind,
      snapshotId: chosen.id,
      sharedWith: ownAccount,
    },
  };
}

async function snapshotRestore(
  deps: Parameters<typeof planDrill>[0],
  policy: Policy,
  input: DrillInput,
  startedAt: Date,
): Promise<Chosen> {
  const drills = drillPolicyOf(policy);
  const snapshots = (await listManualSnapshots(deps.rds)).filter(
    (s) =>
      s.managedBy === policy.name &&
      s.target === input.target &&
      s.status === 'available' &&
      s.time,
  );
  const chosen = pickRestorePoint(
    snapshots,
    input,
    drills,
    startedAt,
    deps.random ?? Math.random,
    deps.rds.region,
  );
  return fromSnapshot(chosen, chosen.verifiedAt?.toISOString() ?? null);
}

/** A drill of a snapshot: what it restores, and the time its data is from. */
function fromSnapshot(chosen: SnapshotRecord, verifiedAt: string | null): Chosen {
  return {
    kind: chosen.kind,
    engine: chosen.engine ?? 'postgres',
    snapshot: {
      id: chosen.id,
      arn: chosen.arn,
      time: (chosen.time as Date).toISOString(),
      verifiedAt,
    },
    pointInTime: null,
  };
}

async function pointInTimeRestore(
  deps: Parameters<typeof planDrill>[0],
  policy: Policy,
  target: string,
  startedAt: Date,
): Promise<Chosen> {
  const drills = drillPolicyOf(policy);
  const selector = policy.targets.find((t) => t.identifier === target);
  const kind: SnapshotKind = selector?.kind === 'aurora-cluster' ? 'cluster' : 'instance';
  const point = await pickPointInTime(
    deps.rds,
    { identifier: target, kind },
    { primaryRegion: policy.regions.primary },
    drills.pointInTime,
    deps.random ?? Math.random,
  );
  // A drill restores nothing later than its own start, the instant its RPO is measured from.
  const instant =
    point.time > startedAt ? new Date(Math.floor(startedAt.getTime() / 1000) * 1000) : point.time;
  const time = instant.toISOString();
  return {
    kind: point.kind,
    engine: point.engine,
    // Named for the report and the drill's tags: the database and the instant restored.
    snapshot: { id: `${target}@${time}`, arn: point.arn, time, verifiedAt: null },
    pointInTime: {
      time,
      sourceIdentifier: point.sourceIdentifier,
      sourceBackupsArn: point.sourceBackupsArn,
    },
  };
}

function pickRestorePoint(
  snapshots: readonly SnapshotRecord[],
  input: DrillInput,
  drills: DrillPolicy,
  startedAt: Date,
  random: () => number,
  region: string,
): SnapshotRecord {
  const newestFirst = [...snapshots].sort(
    (a, b) => (b.time?.getTime() ?? 0) - (a.time?.getTime() ?? 0),
  );
  if (input.snapshotId !== undefined) {
    const named = newestFirst.find((s) => s.id === input.snapshotId);
    if (!named)
      throw new NoRestorePointError(
        `${input.snapshotId} is not an available Lifeboat snapshot of ${input.target} in ${region}`,
      );
    return named;
  }
  // A snapshot named, or a snapshot pick; a point-in-time pick never gets here without a name.
  if ((input.pick ?? drills.pick) === 'random') {
    const from = subtractDuration(
      startedAt,
      parseDuration(drills.window) ?? { years: 0, months: 0, days: 30, hours: 0 },
    );
    const recent = newestFirst.filter((s) => (s.time as Date) >= from);
    const chosen = recent[Math.min(recent.length - 1, Math.floor(random() * recent.length))];
    if (!chosen)
      throw new NoRestorePointError(
        `no available snapshot of ${input.target} in ${region} within ${drills.window}`,
      );
    return chosen;
  }
  const verified = newestFirst.find((s) => s.verifiedAt !== undefined);
  if (!verified) {
    throw new NoRestorePointError(
      `no verified restore point of ${input.target} in ${region}: run lifeboat verify first, or drill with pick random`,
    );
  }
  return verified;
}

/** The Plan task: plans the drill and starts its state, with nothing torn down yet. */
export async function startDrill(
  deps: Parameters<typeof planDrill>[0],
  policy: Policy,
  event: unknown,
): Promise<DrillStart> {
  const { input, startedAt } = parseEvent(DrillStartSchema, event);
  const plan = await planDrill(deps, policy, input, new Date(startedAt));
  return {
    input,
    plan,
    teardown: { done: false, deleted: [], gone: [], pending: [], attempts: 0 },
  };
}
