import { paginateDescribeDBClusters, paginateDescribeDBInstances } from '@aws-sdk/client-rds';
import type { RegionalRds } from '../aws/clients.js';
import { tagMap } from '../naming/tags.js';
import type { TargetSelector } from '../policy/schema.js';
import type { SnapshotKind } from './snapshots.js';

/** A database the policy protects. */
export interface Target {
  readonly kind: SnapshotKind;
  readonly identifier: string;
  readonly arn: string;
  readonly engine: string | undefined;
  readonly status: string;
  /** Its automated backups (point-in-time restore): days kept (0: off), the newest restorable time. */
  readonly continuous: {
    readonly retentionDays: number;
    readonly latestRestorableTime: Date | undefined;
  };
  /** The tier its selector names, if it names one. */
  readonly tier?: string;
}

/** A database in the region no selector of the policy selects. */
export interface Unprotected {
  readonly kind: SnapshotKind;
  readonly identifier: string;
}

/** A selector that could not be resolved to a database, and why. */
export interface TargetProblem {
  readonly kind: SnapshotKind;
  /** The database, or (for tags that select none) the tags. */
  readonly identifier: string;
  readonly message: string;
  /** A selection by tags that found nothing: there is no database to name a snapshot after. */
  readonly byTags?: true;
}

const KIND: Record<TargetSelector['kind'], SnapshotKind> = {
  'rds-instance': 'instance',
  'aurora-cluster': 'cluster',
};

// DescribeDBClusters also lists DocumentDB and Neptune clusters; those are not ours to snapshot.
const RDS_CLUSTER_ENGINE = /^(aurora|mysql|postgres)/;

interface Candidate extends Target {
  readonly tags: ReadonlyMap<string, string>;
  /** Why this database cannot be a target of its kind, if it cannot. */
  readonly unsuitable?: string;
}

/**
 * Resolves the policy's selectors to databases: one describe call per 100 databases of each kind
 * asked for. A selector naming a database that is missing or unsuitable becomes a problem; the
 * others go on.
 */
export async function discoverTargets(
  rds: RegionalRds,
  selectors: readonly TargetSelector[],
  options: { readonly everyKind?: boolean } = {},
): Promise<{ targets: Target[]; problems: TargetProblem[]; unprotected: Unprotected[] }> {
  // Only the kinds the selectors want, unless every database is asked for (to name the
  // unprotected ones).
  const wants = (kind: SnapshotKind) =>
    options.everyKind === true || selectors.some((s) => KIND[s.kind] === kind);
  const candidates = [
    ...(wants('instance') ? await describeInstances(rds) : []),
    ...(wants('cluster') ? await describeClusters(rds) : []),
  ];
  const targets = new Map<string, Target>();
  const problems: TargetProblem[] = [];
  for (const selector of selectors) {
    const kind = KIND[selector.kind];
    const ofKind = candidates.filter((c) => c.kind === kind);
    if (selector.identifier !== undefined) {
      const wanted = selector.identifier.toLowerCase();
      const found = ofKind.find((c) => c.identifier.toLowerCase() === wanted);
      if (!found) {
        problems.push({
          kind,
          identifier: selector.identifier,
          message: `no ${selector.kind} ${selector.identifier} in ${rds.region}`,
        });
      } else if (found.unsuitable) {
        problems.push({ kind, identifier: found.identifier, message: found.unsuitable });
      } else {
        targets.set(`${kind}/${found.identifier}`, strip(found, selector.tier));
      }
      continue;
    }
    const wantedTags = Object.entries(selector.tags ?? {});
    let matched = 0;
    for (const c of ofKind) {
      if (c.unsuitable) continue;
      if (wantedTags.every(([k, v]) => c.tags.get(k) === v)) {
        const key = `${kind}/${c.identifier}`;
        // A database named by identifier keeps that selector's tier.
        if (!targets.has(key)) targets.set(key, strip(c, selector.tier));
        matched += 1;
      }
    }
    // Nothing fails silently: tags that select no database are a problem unless expected.
    if (matched === 0 && !selector.allowEmpty) {
      const tags = wantedTags.map(([k, v]) => `${k}=${v}`).join(', ');
      problems.push({
        kind,
        byTags: true,
        identifier: `tags ${tags}`,
        message: `no ${selector.kind} in ${rds.region} carries the tags ${tags} (allowEmpty: true on this target if that is expected)`,
      });
    }
  }
  const sorted = [...targets.values()].sort((a, b) =>
    `${a.kind}/${a.identifier}`.localeCompare(`${b.kind}/${b.identifier}`),
  );
  const unprotected = candidates
    .filter((c) => !c.unsuitable && !targets.has(`${c.kind}/${c.identifier}`))
    .map((c) => ({ kind: c.kind, identifier: c.identifier }));
  return { targets: sorted, problems, unprotected };
}

function strip(
  { tags: _tags, unsuitable: _unsuitable, ...target }: Candidate,
  tier: string | undefined,
): Target {
  return tier === undefined ? target : { ...target, tier };
}

async function describeInstances(rds: RegionalRds): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for await (const page of paginateDescribeDBInstances({ client: rds.client, pageSize: 100 }, {})) {
    for (const db of page.DBInstances ?? []) {
      out.push({
        kind: 'instance',
        identifier: db.DBInstanceIdentifier ?? '',
        arn: db.DBInstanceArn ?? '',
        engine: db.Engine,
        status: db.DBInstanceStatus ?? 'unknown',
        continuous: {
          retentionDays: db.BackupRetentionPeriod ?? 0,
          latestRestorableTime: db.LatestRestorableTime,
        },
        tags: tagMap(db.TagList),
        ...(db.DBClusterIdentifier
          ? {
              unsuitable: `${db.DBInstanceIdentifier} is an instance of the cluster ${db.DBClusterIdentifier}: protect the cluster (kind: aurora-cluster)`,
            }
          : {}),
      });
    }
  }
  return out;
}

async function describeClusters(rds: RegionalRds): Promise<Candidate[]> {
  const out: Candidate[] = [];
  for await (const page of paginateDescribeDBClusters({ client: rds.client, pageSize: 100 }, {})) {
    for (const c of page.DBClusters ?? []) {
      out.push({
        kind: 'cluster',
        identifier: c.DBClusterIdentifier ?? '',
        arn: c.DBClusterArn ?? '',
        engine: c.Engine,
        status: c.Status ?? 'unknown',
        continuous: {
          retentionDays: c.BackupRetentionPeriod ?? 0,
          latestRestorableTime: c.LatestRestorableTime,
        },
        tags: tagMap(c.TagList),
        ...(RDS_CLUSTER_ENGINE.test(c.Engine ?? '')
          ? {}
          : {
              unsuitable: `${c.DBClusterIdentifier} runs ${c.Engine}, which Lifeboat does not protect`,
            }),
      });
    }
  }
  return out;
}
