import { resolve } from 'node:path';
import { type FunctionDefinition, moduleNameOf } from '../shared/jobs/job-definition.js';
import {
  backupBucketName,
  DEFAULT_STAGE,
  keyAlias,
  type StateMachineName,
  stateMachineName,
} from '../shared/naming/stack.js';
import {
  JOB_SUCCEEDED_METRIC,
  METRIC_NAMESPACE,
  OBJECTIVES_MISSED_METRIC,
  QUOTA_METRIC,
  RECOVERY_POINT_AGE_METRIC,
  VERIFIED_RESTORE_POINT_AGE_METRIC,
} from '../shared/observability/metric-names.js';
import { objectiveText } from '../shared/policy/objective.js';
import { loadPolicyFile, policyPath } from '../shared/policy/policy-file.js';
import { drillRegionOf, drillStackOf } from '../shared/policy/regions.js';
import { longestGapMs, parseSchedule } from '../shared/policy/schedule-expression.js';
import type { Policy } from '../shared/policy/schema.js';
import { objectivesOf, verifiedRestorePointLimits } from '../shared/policy/tiers.js';
import { EXPORT_PURPOSE } from '../shared/secrets/export-job.js';
import { loadDefinition } from '../state-machines/definitions.js';
import { functionSettings, machineTasks, scheduledFunctionArns } from './function-settings.js';
import { pipelineResources } from './pipeline-resources.js';

/**
 * The validated policy as JSON, packaged with every function: they validate it again at cold
 * start with the same schema, without carrying a YAML parser.
 */
export const PACKAGED_POLICY_FILE = '.lifeboat/policy.json';

// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders
const ACCOUNT = '${AWS::AccountId}';
// biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub placeholders
const REGION = '${AWS::Region}';

type Role = 'primary' | 'dr';

export interface StackSettings {
  /** Where the packaged policy goes in each function's package, and what it holds. */
  readonly policyFile: string;
  readonly packagedPolicy: string;
  readonly policyName: string;
  readonly region: string;
  readonly role: Role;
  readonly regions: Policy['regions'];
  readonly objectLock: Policy['backupBucket']['objectLock'];
  /** The backup bucket's name in the region deployed, and the primary's, as Fn::Sub templates. */
  readonly bucketName: string;
  readonly primaryBucketName: string;
  /** The DR region's bucket: exports and records are written there too. */
  readonly drBucketName: string;
  /** The bucket in the region drills run in, where they report. */
  readonly drillBucketName: string;

  readonly keyAliases: { readonly data: string; readonly manifest: string };
  /** What export-secrets may read: the policy's prefixes, or secrets carrying its tags. */
  readonly secretsAccess: readonly Record<string, unknown>[];
  /** serverless.yml's functions, from the definitions under functions/. */
  readonly functions: Record<string, unknown>;
  /** The functions each state machine calls, from its ASL file: what its role may invoke. */
  readonly machineTasks: Record<StateMachineName, unknown[]>;
  readonly keyResources: Record<string, unknown>;
  readonly quotaAlarms: Record<string, unknown>;
  /** An alarm per scheduled job that runs in this stack: no successful run for too long. */
  readonly heartbeatAlarms: Record<string, unknown>;
  /** The pipeline's queue and the rules that send RDS's events to it (or forward them there). */
  readonly pipelineResources: Record<string, unknown>;
  /** The functions EventBridge Scheduler invokes: every scheduled job's. */
  readonly scheduledFunctions: readonly unknown[];
  /** The state machines this stack runs (serverless-step-functions' stateMachines). */
  readonly stateMachines: Record<string, unknown>;
  /** What drill and failover tasks may touch, from the policy's drills and failover sections. */
  readonly recovery: RecoveryAccess;
}

/** The stack cannot be deployed as asked (a region the policy does not name, a missing key ARN). */
export class StackSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StackSettingsError';
  }
}

interface ResolverOptions {
  readonly region?: string | null;
  readonly stage?: string | null;
  readonly param?: string | string[] | null;
}

/**
 * Everything serverless.yml derives from the policy, validated by the same schema the functions
 * and the CLI use: a bad policy fails packaging, naming every bad field.
 */
export function stackSettings(
  options: ResolverOptions,
  definitions: readonly FunctionDefinition[],
  env: NodeJS.ProcessEnv = process.env,
  serviceDir = resolve(import.meta.dirname, '..'),
): StackSettings {
  const policyFile = policyPath(undefined, env);
  const policy = loadPolicyFile(resolve(serviceDir, policyFile));
  const region = options.region ?? policy.regions.primary;
  if (region !== policy.regions.primary && region !== policy.regions.dr) {
    throw new StackSettingsError(
      `cannot deploy to ${region}: policy ${policy.name} runs in ${policy.regions.primary} (primary) and ${policy.regions.dr} (DR)`,
    );
  }
  const role = region === policy.regions.primary ? 'primary' : 'dr';
  const params = paramsOf(options.param);
  const recovery = recoveryAccess(policy);
  return {
    policyFile: PACKAGED_POLICY_FILE,
    packagedPolicy: `${JSON.stringify(policy, null, 2)}\n`,
    policyName: policy.name,
    region,
    role,
    regions: policy.regions,
    objectLock: policy.backupBucket.objectLock,
    bucketName: backupBucketName(policy.name, ACCOUNT, REGION),
    primaryBucketName: backupBucketName(policy.name, ACCOUNT, policy.regions.primary),
    drBucketName: backupBucketName(policy.name, ACCOUNT, policy.regions.dr),
    drillBucketName: backupBucketName(policy.name, ACCOUNT, drillRegionOf(policy)),
    keyAliases: {
      data: keyAlias(policy.name, 'data'),
      manifest: keyAlias(policy.name, 'manifest'),
    },
    secretsAccess: secretsAccess(policy),
    functions: functionSettings(definitions, policy, role, recovery.smokeVpc),
    machineTasks: machineTasks(),
    keyResources: {
      ...(role === 'primary' ? primaryKeys() : replicaKeys(params)),
      ...alertResources(policy, role),
      ...vaultAccess(policy, role),
    },
    quotaAlarms: quotaAlarms(policy),
    heartbeatAlarms: {
      ...heartbeatAlarms(definitions, policy, role),
      ...(policy.objectives && role === 'primary'
        ? { ...objectivesAlarm(), ...databaseObjectiveAlarms(policy) }
        : {}),
    },
    pipelineResources: pipelineResources(definitions, policy, role),
    scheduledFunctions: scheduledFunctionArns(definitions, policy),
    stateMachines: stateMachines(policy, role, options.stage ?? DEFAULT_STAGE),
    recovery,
  };
}

/**
 * What the isolated vault account asks of this stack's roles, granted only when the policy has
 * one: the snapshot job's sending (primary stack), and drills of the vault's copies (the stack
 * in the drill region).
 */
function vaultAccess(policy: Policy, role: Role): Record<string, unknown> {
  const vault = policy.vault;
  if (!vault) return {};
  const region = vault.region ?? policy.regions.dr;
  const drills = policy.drills?.site === 'vault' && drillStackOf(policy) === role;
  return {
    ...(role === 'primary' ? sendToVaultAccess(vault, region) : {}),
    // Verification checks the vault's copies of each run, as the vault's role sees them.
    ...(role === 'primary'
      ? {
          VerifyManifestVaultPolicy: assumeVaultRole(
            vault,
            'VerifyManifestRole',
            'check-the-vault-account',
          ),
        }
      : {}),
    ...(role === 'primary' && vault.bucket ? recordInVaultAccess(vault) : {}),
    ...(drills ? vaultDrillAccess(vault, region) : {}),
    // Reports are copied to the vault bucket too, as the vault's role.
    ...(vault.bucket && policy.drills && drillStackOf(policy) === role
      ? {
          DrillReportVaultPolicy: assumeVaultRole(
            vault,
            'DrillReportRole',
            'reach-the-vault-account',
          ),
        }
      : {}),
    ...(vault.bucket && policy.failover && role === 'dr'
      ? {
          FailoverReportVaultPolicy: assumeVaultRole(
            vault,
            'FailoverReportRole',
            'copy-reports-to-the-vault',
          ),
        }
      : {}),
  };
}

/**
 * With a vault bucket, the other jobs that record (exports, retention) write their records and
 * exports there too, as the vault's writer role (the snapshot job may already assume it); and
 * each export's data key is encrypted for the vault's key too, in this account's name only.
 */
function recordInVaultAccess(vault: NonNullable<Policy['vault']>) {
  return {
    ExportSecretsVaultPolicy: assumeVaultRole(
      vault,
      'ExportSecretsRole',
      'copy-to-the-vault-account',
      [
        {
          Sid: 'EncryptExportsForTheVault',
          Effect: 'Allow',
          Action: 'kms:Encrypt',
          Resource: vault.kmsKeyArn,
          Condition: {
            StringEquals: {
              'kms:EncryptionContext:purpose': EXPORT_PURPOSE,
              'kms:EncryptionContext:account': { Ref: 'AWS::AccountId' },
            },
          },
        },
      ],
    ),
    EnforceRetentionVaultPolicy: assumeVaultRole(
      vault,
      'EnforceRetentionRole',
      'copy-to-the-vault-account',
    ),
    PostureReportVaultPolicy: assumeVaultRole(
      vault,
      'PostureReportRole',
      'copy-to-the-vault-account',
    ),
  };
}

/** A policy letting one of the stack's roles assume the vault's writer role (and more). */
function assumeVaultRole(
  vault: NonNullable<Policy['vault']>,
  roleId: string,
  name: string,
  more: readonly Record<string, unknown>[] = [],
) {
  return {
    Type: 'AWS::IAM::RolePolicy',
    Properties: {
      RoleName: { Ref: roleId },
      PolicyName: name,
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'AssumeTheVaultWriterRole',
            Effect: 'Allow',
            Action: 'sts:AssumeRole',
            Resource: vault.roleArn,
          },
          ...more,
        ],
      },
    },
  };
}

/**
 * What a drill of the vault's copy needs: Plan and Report assume the vault's role (to share the
 * copy with this account, and to end the share), and the state machine restores the shared copy
 * by its ARN, through RDS with the vault's key.
 */
function vaultDrillAccess(vault: NonNullable<Policy['vault']>, region: string) {
  const assume = (roleId: string, name: string) => assumeVaultRole(vault, roleId, name);
  const copies = (type: string) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:rds:${region}:${vault.account}:${type}:lifeboat-\${AWS::AccountId}-*`,
  });
  return {
    DrillPlanVaultPolicy: assume('DrillPlanRole', 'share-the-vault-copy'),
    DrillReportVaultPolicy: assume('DrillReportRole', 'reach-the-vault-account'),
    RestoreDrillVaultPolicy: {
      Type: 'AWS::IAM::RolePolicy',
      Properties: {
        RoleName: { Ref: 'RestoreDrillStateMachineRole' },
        PolicyName: 'restore-the-vault-copy',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'RestoreTheVaultsCopiesShared',
              Effect: 'Allow',
              Action: ['rds:RestoreDBInstanceFromDBSnapshot', 'rds:RestoreDBClusterFromSnapshot'],
              Resource: [copies('snapshot'), copies('cluster-snapshot')],
            },
            {
              Sid: 'UseTheVaultKeyThroughRds',
              Effect: 'Allow',
              Action: ['kms:CreateGrant', 'kms:DescribeKey', 'kms:Decrypt'],
              Resource: vault.kmsKeyArn,
              Condition: { StringEquals: { 'kms:ViaService': `rds.${region}.amazonaws.com` } },
            },
          ],
        },
      },
    },
  };
}

/**
 * What the pipeline needs to send to the vault account: assume the vault's writer role, and
 * share Lifeboat's snapshots in the vault's region (and stop sharing them). Telling AWS-managed
 * keys from customer keys is the role's own grant (it tells every key's state).
 */
function sendToVaultAccess(vault: NonNullable<Policy['vault']>, region: string) {
  const own = (type: string) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:rds:${region}:\${AWS::AccountId}:${type}:lifeboat-*`,
  });
  return {
    // The slot's run copies its record to the vault bucket as the vault's role.
    SnapshotRdsVaultPolicy: assumeVaultRole(vault, 'SnapshotRdsRole', 'copy-to-the-vault-account'),
    AdvanceSnapshotsVaultPolicy: assumeVaultRole(
      vault,
      'AdvanceSnapshotsRole',
      'send-to-the-vault-account',
      [
        {
          Sid: 'ShareLifeboatSnapshotsWithTheVault',
          Effect: 'Allow',
          Action: ['rds:ModifyDBSnapshotAttribute', 'rds:ModifyDBClusterSnapshotAttribute'],
          Resource: [own('snapshot'), own('cluster-snapshot')],
        },
      ],
    ),
  };
}

const MACHINE_ALARMS = {
  topics: { alarm: { Ref: 'AlertTopic' } },
  metrics: ['executionsFailed', 'executionsTimedOut', 'executionsAborted', 'executionThrottled'],
  treatMissingData: 'notBreaching',
};

/**
 * The restore-drill machine runs in the region the policy drills in, once per database on the
 * drill schedule; the regional-failover machine runs in the DR region only, by hand. A policy
 * without drills or failover gets neither.
 */
function stateMachines(policy: Policy, role: Role, stage: string): Record<string, unknown> {
  const machines: Record<string, unknown> = {};
  const drills = policy.drills;
  if (drills && drillStackOf(policy) === role) {
    machines.restoreDrill = {
      id: 'RestoreDrillStateMachine',
      name: stateMachineName(stage, 'restore-drill'),
      role: { 'Fn::GetAtt': ['RestoreDrillStateMachineRole', 'Arn'] },
      definition: loadDefinition('restore-drill'),
      alarms: MACHINE_ALARMS,
      events: Object.keys(drills.databases).map((target) => ({
        schedule: {
          method: 'scheduler',
          rate: drills.schedule,
          timezone: policy.timeZone,
          enabled: true,
          input: { target },
        },
      })),
    };
  }
  if (policy.failover && role === 'dr') {
    machines.regionalFailover = {
      id: 'RegionalFailoverStateMachine',
      name: stateMachineName(stage, 'regional-failover'),
      role: { 'Fn::GetAtt': ['RegionalFailoverStateMachineRole', 'Arn'] },
      definition: loadDefinition('regional-failover'),
      alarms: MACHINE_ALARMS,
    };
  }
  return machines;
}

/** What the recovery roles may touch; placeholders that match nothing when a section is absent. */
export interface RecoveryAccess {
  /** The drill databases' credentials secrets, in the drill region. */
  readonly drillSecrets: readonly unknown[];
  /** Where the smoke-check Lambda runs: the policy's subnets and security groups. */
  readonly smokeVpc: {
    readonly subnetIds: readonly string[];
    readonly securityGroupIds: readonly string[];
  } | null;
  /** The hosted zones failover may switch records in. */
  readonly hostedZones: readonly unknown[];
  /** The records failover may switch, as Route 53 normalizes them (lowercase, no final dot). */
  readonly recordNames: readonly string[];
  /** The DR read replicas failover may promote. */
  readonly replicas: readonly unknown[];
  /** The Aurora global databases and DR clusters failover may switch over or fail over. */
  readonly globalDatabases: readonly unknown[];
  /**
   * What a point-in-time drill may restore from: the drilled databases in their own region, or
   * the automated backups RDS replicates to the DR region.
   */
  readonly pointInTimeSources: readonly unknown[];
}

// An ARN no resource can have: IAM needs a resource, and an absent section grants nothing.
const NOTHING = 'lifeboat-not-configured';

function recoveryAccess(policy: Policy): RecoveryAccess {
  const drills = policy.drills;
  const region = drillRegionOf(policy);
  const secretArn = (nameOrArn: string) =>
    nameOrArn.startsWith('arn:')
      ? nameOrArn
      : // Secrets Manager appends a dash and six random characters to a secret's ARN.
        {
          'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:${region}:\${AWS::AccountId}:secret:${nameOrArn}-??????`,
        };
  const secrets = drills
    ? [...new Set(Object.values(drills.databases).map((d) => d.credentialsSecret))]
    : [];
  const zones = [
    ...new Set(
      Object.values(policy.failover?.databases ?? {}).map((d) =>
        d.dns.hostedZoneId.replace(/^\/hostedzone\//, ''),
      ),
    ),
  ];
  const failovers = Object.values(policy.failover?.databases ?? {});
  const rds = (resource: string) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:rds:${policy.regions.dr}:\${AWS::AccountId}:${resource}`,
  });
  const replicas = failovers.flatMap((d) => (d.replica ? [rds(`db:${d.replica}`)] : []));
  const globals = failovers.flatMap((d) =>
    d.globalCluster && d.drCluster
      ? [
          // Global databases have no region in their ARN.
          {
            'Fn::Sub': `arn:\${AWS::Partition}:rds::\${AWS::AccountId}:global-cluster:${d.globalCluster}`,
          },
          rds(`cluster:${d.drCluster}`),
        ]
      : [],
  );
  const network = drills?.network;
  const drilled = policy.targets.filter((t) => t.identifier && drills?.databases[t.identifier]);
  const inDrillRegion = (resource: string) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:rds:${region}:\${AWS::AccountId}:${resource}`,
  });
  // Any drill may be started with pick point-in-time, whatever the policy's default pick.
  const pointInTimeSources =
    !drills || drilled.length === 0
      ? [inDrillRegion(`db:${NOTHING}`)]
      : drills.site === 'dr'
        ? // Replicated automated backups are named by RDS (auto-backup:ab-...), not by database.
          [inDrillRegion('auto-backup:*')]
        : drilled.map((t) =>
            inDrillRegion(`${t.kind === 'aurora-cluster' ? 'cluster' : 'db'}:${t.identifier}`),
          );
  return {
    pointInTimeSources,
    drillSecrets: secrets.length > 0 ? secrets.map(secretArn) : [secretArn(NOTHING)],
    smokeVpc:
      network?.lambdaSubnetIds && network.lambdaSecurityGroupIds
        ? { subnetIds: network.lambdaSubnetIds, securityGroupIds: network.lambdaSecurityGroupIds }
        : null,
    hostedZones: (zones.length > 0 ? zones : [NOTHING]).map((zone) => ({
      'Fn::Sub': `arn:\${AWS::Partition}:route53:::hostedzone/${zone}`,
    })),
    recordNames: failovers.length
      ? [...new Set(failovers.map((d) => d.dns.recordName.toLowerCase().replace(/\.$/, '')))]
      : [NOTHING],
    replicas: replicas.length > 0 ? replicas : [rds(`db:${NOTHING}`)],
    globalDatabases: globals.length > 0 ? globals : [rds(`cluster:${NOTHING}`)],
  };
}

/**
 * IAM statements for reading the selected secrets: GetSecretValue on the policy's name prefixes,
 * or on secrets carrying all of its tags. ListSecrets and BatchGetSecretValue take no resource.
 */
function secretsAccess(policy: Policy): Record<string, unknown>[] {
  const secret = (name: string) => ({
    'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:${policy.regions.primary}:\${AWS::AccountId}:secret:${name}`,
  });
  const selection = policy.secrets;
  const tags = Object.entries(selection?.tags ?? {});
  return [
    {
      Sid: 'ListAndBatchRead',
      Effect: 'Allow',
      Action: ['secretsmanager:ListSecrets', 'secretsmanager:BatchGetSecretValue'],
      Resource: '*',
    },
    {
      Sid: 'ReadSelectedSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
      Resource: selection?.namePrefixes
        ? selection.namePrefixes.map((p) => secret(`${p}*`))
        : [secret('*')],
      ...(tags.length > 0
        ? {
            Condition: {
              StringEquals: Object.fromEntries(
                tags.map(([k, v]) => [`secretsmanager:ResourceTag/${k}`, v]),
              ),
            },
          }
        : {}),
    },
  ];
}

const HOUR_S = 3600;
// CloudWatch evaluates at most 7 days of hourly periods.
const MAX_EVALUATION_S = 7 * 24 * HOUR_S;

/**
 * Nothing fails silently: for each scheduled job this stack runs, an alarm when no run succeeded
 * (no JobSucceeded heartbeat) within the schedule's longest gap plus a margin. Missing data is
 * breaching: a schedule that stopped, a function that cannot start, or runs that keep failing
 * all alarm.
 */
function heartbeatAlarms(
  definitions: readonly FunctionDefinition[],
  policy: Policy,
  role: Role,
): Record<string, unknown> {
  const alarms: Record<string, unknown> = {};
  for (const job of definitions) {
    if (job.kind !== 'job' || job.runsIn(policy) !== role) continue;
    const expression = job.schedule(policy);
    if (!expression) continue;
    Object.assign(alarms, heartbeatAlarm(job.name, expression, policy.timeZone));
  }
  return alarms;
}

/**
 * The heartbeat alarm of one scheduled function (`snapshotRds`): it fires when no run completed
 * without failures within the schedule's longest gap and a margin. Missing data breaches.
 */
export function heartbeatAlarm(
  name: string,
  expression: string,
  timeZone: string,
): Record<string, unknown> {
  const gapS = longestGapMs(parseSchedule(expression, timeZone), new Date()) / 1000;
  // A run may start late and take its time: a margin of a tenth of the gap, at least 30 minutes.
  const windowS = Math.min(MAX_EVALUATION_S, gapS + Math.max(1800, gapS / 10));
  const period = windowS >= 6 * HOUR_S ? HOUR_S : 300;
  const periods = Math.ceil(windowS / period);
  const service = moduleNameOf(name);
  return {
    [`${name.charAt(0).toUpperCase()}${name.slice(1)}HeartbeatAlarm`]: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmDescription: `Lifeboat ${service} has not completed a run without failures for ${Math.round(windowS / 60)} minutes (its schedule ${expression}, and a margin): a schedule that stopped, a function that cannot start or runs that keep failing`,
        Namespace: METRIC_NAMESPACE,
        MetricName: JOB_SUCCEEDED_METRIC,
        Dimensions: [{ Name: 'service', Value: service }],
        Statistic: 'Sum',
        Period: period,
        EvaluationPeriods: periods,
        DatapointsToAlarm: periods,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
        AlarmActions: [{ Ref: 'AlertTopic' }],
      },
    },
  };
}

/** An alarm when the posture finds a database missing an objective (RPO now, or its drill's RTO). */
function objectivesAlarm(): Record<string, unknown> {
  return {
    ObjectivesMissedAlarm: {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmDescription:
          'A database misses its recovery objectives: its newest restore point is older than its tier allows, or its last drill took longer (lifeboat status names it)',
        Namespace: METRIC_NAMESPACE,
        MetricName: OBJECTIVES_MISSED_METRIC,
        Dimensions: [{ Name: 'service', Value: 'posture-report' }],
        Statistic: 'Maximum',
        Period: HOUR_S,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        // A posture that stopped coming is the heartbeat alarm's to report.
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: 'AlertTopic' }],
      },
    },
  };
}

/**
 * Per database the policy names (tag-selected databases are not known until the posture job
 * finds them; ObjectivesMissed covers them): an alarm per region when its newest restore point
 * is older than its tier's RPO, and one when its newest verified restore point is older than
 * verification can keep it (verifiedRestorePointLimit), or there is none.
 */
function databaseObjectiveAlarms(policy: Policy): Record<string, unknown> {
  const alarms: Record<string, unknown> = {};
  const verifiedLimit = verifiedRestorePointLimits(policy);
  for (const target of policy.targets) {
    const objectives = target.identifier ? objectivesOf(policy, target) : null;
    if (!target.identifier || !objectives) continue;
    const id = target.identifier;
    const name = id
      .split('-')
      .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
      .join('');
    const alarm = (
      description: string,
      metric: string,
      dimensions: { Name: string; Value: string }[],
      threshold: number,
      missing: 'breaching' | 'notBreaching',
    ) => ({
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmDescription: description,
        Namespace: METRIC_NAMESPACE,
        MetricName: metric,
        Dimensions: [{ Name: 'service', Value: 'posture-report' }, ...dimensions],
        Statistic: 'Maximum',
        Period: HOUR_S,
        EvaluationPeriods: 1,
        Threshold: threshold,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: missing,
        AlarmActions: [{ Ref: 'AlertTopic' }],
      },
    });
    for (const [role, Role] of [
      ['primary', 'Primary'],
      ['dr', 'Dr'],
    ] as const) {
      const region = policy.regions[role];
      alarms[`${name}Rpo${Role}Alarm`] = alarm(
        `${id}: its newest restore point in ${region} is older than the ${objectiveText(objectives.rpoSeconds)} RPO of tier ${objectives.tier}`,
        RECOVERY_POINT_AGE_METRIC,
        [
          { Name: 'Target', Value: id },
          { Name: 'Region', Value: region },
        ],
        objectives.rpoSeconds,
        // A posture that stopped coming is the heartbeat alarm's to report.
        'notBreaching',
      );
    }
    const limit = verifiedLimit(objectives.rpoSeconds);
    alarms[`${name}VerifiedRestorePointAlarm`] = alarm(
      `${id}: no verified restore point within ${objectiveText(limit)} (the longer of the ${objectiveText(objectives.rpoSeconds)} RPO of tier ${objectives.tier} and the snapshot interval, plus the verification interval)`,
      VERIFIED_RESTORE_POINT_AGE_METRIC,
      [{ Name: 'Target', Value: id }],
      limit,
      // No verified restore point at all publishes nothing: that is the worst case.
      'breaching',
    );
  }
  return alarms;
}

/** Quota alarm threshold: manual snapshots in use, as a percentage of the policy's quota. */
const QUOTA_ALARM_PERCENT = 80;

/** One alarm per region and kind on the ManualSnapshotQuotaUsedPercent metric of snapshot-rds. */
function quotaAlarms(policy: Policy): Record<string, unknown> {
  const alarms: Record<string, unknown> = {};
  for (const [kind, Kind] of [
    ['instance', 'Instance'],
    ['cluster', 'Cluster'],
  ] as const) {
    for (const [role, Role] of [
      ['primary', 'Primary'],
      ['dr', 'Dr'],
    ] as const) {
      alarms[`${Kind}SnapshotQuota${Role}Alarm`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmDescription: `Manual ${kind} snapshots in ${policy.regions[role]} are at ${QUOTA_ALARM_PERCENT}% of the quota; snapshot-rds refuses to go past it`,
          Namespace: METRIC_NAMESPACE,
          MetricName: QUOTA_METRIC,
          Dimensions: [
            { Name: 'service', Value: 'snapshot-rds' },
            { Name: 'Region', Value: policy.regions[role] },
            { Name: 'Kind', Value: kind },
          ],
          Statistic: 'Maximum',
          Period: 3600,
          EvaluationPeriods: 1,
          Threshold: QUOTA_ALARM_PERCENT,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'notBreaching',
          AlarmActions: [{ Ref: 'AlertTopic' }],
        },
      };
    }
  }
  return alarms;
}

function paramsOf(param: ResolverOptions['param']): Map<string, string> {
  const list = param == null ? [] : Array.isArray(param) ? param : [param];
  return new Map(
    list.map((p) => {
      const at = p.indexOf('=');
      return [p.slice(0, at), p.slice(at + 1)] as const;
    }),
  );
}

export const KEY_POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'AccountAdministers',
      Effect: 'Allow',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudFormation Fn::Sub template
      Principal: { AWS: { 'Fn::Sub': 'arn:${AWS::Partition}:iam::${AWS::AccountId}:root' } },
      Action: 'kms:*',
      Resource: '*',
    },
  ],
};

/**
 * Alerts: the topic's own key, and a rule that alerts when a key backups depend on is disabled
 * or scheduled for deletion. CloudWatch alarms and EventBridge rules cannot publish to a topic
 * under the AWS managed key aws/sns (its policy cannot grant them), so the topic has a key whose
 * policy lets both encrypt to it. Deleting a key destroys what it encrypts as surely as deleting
 * the backups, Object Lock or not: the rule watches this region's data and manifest keys and,
 * in the DR region, the key the snapshot copies are encrypted with. It needs CloudTrail's
 * management events (any trail logging them), which is how KMS calls reach EventBridge.
 */
function alertResources(policy: Policy, role: Role): Record<string, unknown> {
  return keyAtRiskAlerts([
    { 'Fn::GetAtt': ['DataKey', 'Arn'] },
    { 'Fn::GetAtt': ['ManifestKey', 'Arn'] },
    ...(role === 'dr' ? [policy.snapshots.drKmsKeyArn] : []),
  ]);
}

/**
 * The alert topic's key (which alarms and EventBridge may encrypt to), and a rule that alerts
 * through the topic (`AlertTopic`) when one of the `watched` keys is disabled or scheduled for
 * deletion. Shared by every Lifeboat stack, the vault's included.
 */
export function keyAtRiskAlerts(watched: readonly unknown[]): Record<string, unknown> {
  const service = (principal: string, conditions: boolean) => ({
    Sid: `${principal.split('.')[0]}EncryptsAlerts`,
    Effect: 'Allow',
    Principal: { Service: principal },
    Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
    Resource: '*',
    // EventBridge's requests to KMS carry no source account: a condition would drop every alert.
    ...(conditions
      ? { Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }
      : {}),
  });
  return {
    AlertKey: {
      Type: 'AWS::KMS::Key',
      Properties: {
        Description: 'Lifeboat alert topic key: alarms and rules encrypt their alerts with it',
        EnableKeyRotation: true,
        KeyPolicy: {
          ...KEY_POLICY,
          Statement: [
            ...KEY_POLICY.Statement,
            service('cloudwatch.amazonaws.com', true),
            service('events.amazonaws.com', false),
          ],
        },
      },
    },
    KeyAtRiskRule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description:
          'A KMS key Lifeboat backups depend on was disabled or scheduled for deletion: what it encrypts becomes unreadable',
        EventPattern: {
          source: ['aws.kms'],
          'detail-type': ['AWS API Call via CloudTrail'],
          detail: {
            eventSource: ['kms.amazonaws.com'],
            eventName: ['DisableKey', 'ScheduleKeyDeletion', 'DeleteImportedKeyMaterial'],
            resources: { ARN: [...watched] },
          },
        },
        Targets: [
          {
            Id: 'alert',
            Arn: { Ref: 'AlertTopic' },
            InputTransformer: {
              InputPathsMap: {
                call: '$.detail.eventName',
                key: '$.detail.resources[0].ARN',
                who: '$.detail.userIdentity.arn',
                at: '$.time',
              },
              InputTemplate:
                '"Lifeboat: <call> on KMS key <key> by <who> at <at>. Backups, exports and records encrypted with this key become unreadable once it is deleted: undo it (EnableKey, CancelKeyDeletion) unless this was intended."',
            },
          },
        ],
      },
    },
    AlertTopicPolicy: {
      Type: 'AWS::SNS::TopicPolicy',
      Properties: {
        Topics: [{ Ref: 'AlertTopic' }],
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'KeyAtRiskRulePublishes',
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: { Ref: 'AlertTopic' },
              Condition: {
                ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': ['KeyAtRiskRule', 'Arn'] } },
              },
            },
          ],
        },
      },
    },
  };
}

function primaryKeys(): Record<string, unknown> {
  return {
    DataKey: {
      Type: 'AWS::KMS::Key',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Description: 'Lifeboat data key (multi-Region): secret exports, backup bucket',
        MultiRegion: true,
        EnableKeyRotation: true,
        KeyPolicy: KEY_POLICY,
      },
    },
    ManifestKey: {
      Type: 'AWS::KMS::Key',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Description: 'Lifeboat manifest signing key (HMAC, multi-Region; HMAC keys do not rotate)',
        MultiRegion: true,
        KeySpec: 'HMAC_256',
        KeyUsage: 'GENERATE_VERIFY_MAC',
        KeyPolicy: KEY_POLICY,
      },
    },
  };
}

function replicaKeys(params: Map<string, string>): Record<string, unknown> {
  const need = (name: string) => {
    const value = params.get(name);
    if (!value) {
      throw new StackSettingsError(
        `deploying the DR region needs --param="${name}=<ARN>": the ${name} output of the primary region's stack`,
      );
    }
    return value;
  };
  const replica = (primaryKeyArn: string, description: string) => ({
    Type: 'AWS::KMS::ReplicaKey',
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: { PrimaryKeyArn: primaryKeyArn, Description: description, KeyPolicy: KEY_POLICY },
  });
  return {
    DataKey: replica(need('dataKeyArn'), 'Lifeboat data key (replica)'),
    ManifestKey: replica(need('manifestKeyArn'), 'Lifeboat manifest signing key (replica)'),
  };
}
