import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PACKAGED_POLICY_FILE, stackSettings } from '../../deploy/stack-settings.js';
import { allFunctions } from '../../functions/registry.js';
import type { FunctionDefinition } from '../../shared/jobs/job-definition.js';
import { PolicyError } from '../../shared/policy/errors.js';
import { simulate } from '../support/iam-roles.js';
import { FIXTURE_POLICY_FILE, fixturePolicy } from '../support/policy.js';

let serviceDir: string;
let definitions: FunctionDefinition[];

beforeAll(async () => {
  definitions = await allFunctions();
});
const env = { LIFEBOAT_POLICY: 'policy.yml' };

/** The service's policy with a vault in the DR region, whose copies the drills restore. */
function drillTheVault(): void {
  const text = readFileSync(join(serviceDir, 'policy.yml'), 'utf8').replace(
    'drills:\n',
    'drills:\n  site: vault\n',
  );
  writeFileSync(
    join(serviceDir, 'policy.yml'),
    `${text}\nvault:\n  account: "444455556666"\n  kmsKeyArn: arn:aws:kms:eu-west-1:444455556666:key/v\n  roleArn: arn:aws:iam::444455556666:role/lifeboat-vault-123456789012-v\n`,
  );
}

/** The DR region's stack settings, with the primary's key ARNs as parameters. */
const drStackSettings = () =>
  stackSettings(
    {
      region: 'eu-west-1',
      param: [
        'dataKeyArn=arn:aws:kms:eu-central-1:1:key/mrk-a',
        'manifestKeyArn=arn:aws:kms:eu-central-1:1:key/mrk-b',
      ],
    },
    definitions,
    env,
    serviceDir,
  );

beforeEach(() => {
  serviceDir = mkdtempSync(join(tmpdir(), 'lifeboat-service-'));
  copyFileSync(FIXTURE_POLICY_FILE, join(serviceDir, 'policy.yml'));
});

describe('stack settings derived from the policy', () => {
  it('gives the validated policy as JSON for the functions, and writes no file', () => {
    // Act
    const settings = stackSettings({}, definitions, env, serviceDir);

    // Assess
    expect(settings.policyFile).toBe(PACKAGED_POLICY_FILE);
    expect(JSON.parse(settings.packagedPolicy)).toEqual(
      JSON.parse(JSON.stringify(fixturePolicy())),
    );
    expect(readdirSync(serviceDir)).toEqual(['policy.yml']);
  });

  it('deploys to the primary region by default, with schedules on and primary keys', () => {
    // Act
    const settings = stackSettings({}, definitions, env, serviceDir);

    // Assess
    expect(settings).toMatchObject({ region: 'eu-central-1', role: 'primary' });
    expect((settings.functions.snapshotRds as { events: unknown[] }).events).toEqual([
      {
        schedule: expect.objectContaining({
          enabled: true,
          rate: ['cron(0 3 * * ? *)'],
          timezone: 'Europe/Berlin',
        }),
      },
    ]);
    expect(settings.keyResources.DataKey).toMatchObject({ Type: 'AWS::KMS::Key' });
  });

  it('deploys the DR region with schedules off and replicas of the primary keys', () => {
    // Act
    const settings = drStackSettings();

    // Assess
    expect(settings.role).toBe('dr');
    expect((settings.functions.enforceRetention as { events: unknown[] }).events).toEqual([
      { schedule: expect.objectContaining({ enabled: false }) },
    ]);
    expect(settings.keyResources.DataKey).toMatchObject({
      Type: 'AWS::KMS::ReplicaKey',
      Properties: { PrimaryKeyArn: 'arn:aws:kms:eu-central-1:1:key/mrk-a' },
    });
  });

  it('sends to the vault from the primary stack, and drills the vault’s copies from the stack in its region', () => {
    // Prepare: a vault in the DR region, drilled there
    drillTheVault();
    // Act
    const primary = stackSettings({}, definitions, env, serviceDir);
    const drStack = drStackSettings();

    // Assess
    expect(Object.keys(primary.keyResources)).toContain('SnapshotRdsVaultPolicy');
    expect(Object.keys(primary.keyResources)).not.toContain('RestoreDrillVaultPolicy');
    expect(primary.stateMachines.restoreDrill).toBeUndefined();
    expect(Object.keys(drStack.keyResources)).toEqual(
      expect.arrayContaining([
        'DrillPlanVaultPolicy',
        'DrillReportVaultPolicy',
        'RestoreDrillVaultPolicy',
      ]),
    );
    expect(Object.keys(drStack.keyResources)).not.toContain('SnapshotRdsVaultPolicy');
    expect(drStack.stateMachines.restoreDrill).toBeDefined();
  });

  it('lets a drill at site vault restore only this account’s copies in the vault, through RDS', async () => {
    // Prepare
    drillTheVault();
    const settings = drStackSettings();
    const document = JSON.parse(
      JSON.stringify(
        (
          settings.keyResources.RestoreDrillVaultPolicy as {
            Properties: { PolicyDocument: unknown };
          }
        ).Properties.PolicyDocument,
      )
        .replaceAll(`$\{AWS::Partition}`, 'aws')
        .replaceAll(`$\{AWS::AccountId}`, '123456789012'),
    );
    const flatten = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(flatten)
        : v && typeof v === 'object'
          ? 'Fn::Sub' in v
            ? (v as Record<string, unknown>)['Fn::Sub']
            : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, flatten(x)]))
          : v;
    const role = {
      role: 'RestoreDrillStateMachineRole',
      policies: [{ name: 'vault', policy: flatten(document) as never }],
    };
    const restore = (arn: string) =>
      simulate(
        role,
        { action: 'rds:RestoreDBInstanceFromDBSnapshot', resource: arn, context: {} },
        '123456789012',
      );

    // Act
    const own = await restore(
      'arn:aws:rds:eu-west-1:444455556666:snapshot:lifeboat-123456789012-orders-db-202611010300',
    );
    const others = await restore(
      'arn:aws:rds:eu-west-1:444455556666:snapshot:lifeboat-999988887777-orders-db-202611010300',
    );
    const elsewhere = await restore(
      'arn:aws:rds:eu-west-1:555566667777:snapshot:lifeboat-123456789012-orders-db-202611010300',
    );
    // Assess
    expect([own, others, elsewhere]).toEqual(['Allowed', 'ImplicitlyDenied', 'ImplicitlyDenied']);
    expect(JSON.stringify(document)).toContain(
      '"Resource":"arn:aws:kms:eu-west-1:444455556666:key/v","Condition":{"StringEquals":{"kms:ViaService":"rds.eu-west-1.amazonaws.com"}}',
    );
  });

  it('refuses the DR region without the primary key ARNs', () => {
    // Act
    const act = () => stackSettings({ region: 'eu-west-1' }, definitions, env, serviceDir);

    // Assess
    expect(act).toThrow('deploying the DR region needs --param="dataKeyArn=<ARN>"');
  });

  it('refuses a region the policy does not name', () => {
    // Act
    const act = () => stackSettings({ region: 'us-east-1' }, definitions, env, serviceDir);

    // Assess
    expect(act).toThrow(
      'cannot deploy to us-east-1: policy test-policy runs in eu-central-1 (primary) and eu-west-1 (DR)',
    );
  });

  it('fails packaging on a bad policy, naming its fields, and writes nothing', () => {
    // Prepare
    writeFileSync(
      join(serviceDir, 'policy.yml'),
      readFileSync(FIXTURE_POLICY_FILE, 'utf8').replace('version: 1', 'version: 9'),
    );

    // Act
    const act = () => stackSettings({}, definitions, env, serviceDir);

    // Assess
    expect(act).toThrow(PolicyError);
    expect(act).toThrow('version: must be 1');
    expect(existsSync(join(serviceDir, PACKAGED_POLICY_FILE))).toBe(false);
  });

  it('declares one function per definition: its module, role, timeout, network and bucket', () => {
    // Act
    const { functions, recovery } = stackSettings({}, definitions, env, serviceDir);

    // Assess
    expect(Object.keys(functions).sort()).toEqual(definitions.map((d) => d.name).sort());
    expect(functions.drillSmoke).toEqual({
      handler: 'functions/drill-smoke.handler',
      description: expect.stringContaining('smoke checks'),
      role: 'DrillSmokeRole',
      timeout: 300,
    });
    // This policy names no subnets for the smoke checks: the function runs outside any VPC.
    expect(recovery.smokeVpc).toBeNull();
    expect(functions.failoverReport).toMatchObject({
      environment: { REPORT_BUCKET: { Ref: 'BackupBucket' } },
    });
    expect(functions.drillPoll).not.toHaveProperty('environment');
    expect(functions.verifyManifest).toMatchObject({
      handler: 'functions/verify-manifest.handler',
      role: 'VerifyManifestRole',
      maximumRetryAttempts: 0,
    });
  });

  it('lets each state machine invoke exactly the functions its ASL file calls', () => {
    // Act
    const { machineTasks } = stackSettings({}, definitions, env, serviceDir);

    // Assess
    expect(machineTasks['restore-drill']).toEqual(
      ['DrillPlan', 'DrillPoll', 'DrillSmoke', 'DrillTeardown', 'DrillReport'].map((f) => ({
        'Fn::GetAtt': [`${f}LambdaFunction`, 'Arn'],
      })),
    );
    expect(machineTasks['regional-failover']).toHaveLength(4);
  });

  it('alarms when a scheduled job has gone too long without a run that succeeded', () => {
    // Act
    const primary = stackSettings({}, definitions, env, serviceDir);
    const dr = drStackSettings();

    // Assess: the daily snapshot job, 24 h and a margin of 2.4 h, in hourly periods
    expect(primary.heartbeatAlarms.SnapshotRdsHeartbeatAlarm).toMatchObject({
      Properties: {
        MetricName: 'JobSucceeded',
        Dimensions: [{ Name: 'service', Value: 'snapshot-rds' }],
        Period: 3600,
        EvaluationPeriods: 27,
        DatapointsToAlarm: 27,
        ComparisonOperator: 'LessThanThreshold',
        Threshold: 1,
        TreatMissingData: 'breaching',
      },
    });
    expect(Object.keys(primary.heartbeatAlarms).sort()).toEqual(
      definitions
        .filter((d) => d.kind === 'job' && d.schedule(fixturePolicy()) !== undefined)
        .map((d) => `${d.name.charAt(0).toUpperCase()}${d.name.slice(1)}HeartbeatAlarm`)
        .sort(),
    );
    // Every job runs in the primary stack: the DR stack watches none.
    expect(dr.heartbeatAlarms).toEqual({});
  });

  it('alarms per named database on its restore point age against its RPO, and on its newest verified one', () => {
    // Arrange: the shipped policy, whose orders-db is tier critical (RPO 15 minutes).
    copyFileSync('lifeboat.policy.yml', join(serviceDir, 'shipped.yml'));

    // Act
    const primary = stackSettings({}, definitions, { LIFEBOAT_POLICY: 'shipped.yml' }, serviceDir);

    // Assess
    const alarms = primary.heartbeatAlarms as Record<
      string,
      { Properties: Record<string, unknown> }
    >;
    expect(alarms.OrdersDbRpoPrimaryAlarm?.Properties).toMatchObject({
      MetricName: 'RecoveryPointAge',
      Dimensions: [
        { Name: 'service', Value: 'posture-report' },
        { Name: 'Target', Value: 'orders-db' },
        { Name: 'Region', Value: 'eu-central-1' },
      ],
      Threshold: 900,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expect(alarms.OrdersDbRpoDrAlarm?.Properties.Dimensions).toContainEqual({
      Name: 'Region',
      Value: 'eu-west-1',
    });
    // The daily snapshots' day (longer than 15 minutes) and the daily verification's day.
    expect(alarms.OrdersDbVerifiedRestorePointAlarm?.Properties).toMatchObject({
      MetricName: 'VerifiedRestorePointAge',
      Threshold: 86_400 + 86_400,
      TreatMissingData: 'breaching',
    });
    expect(alarms.ObjectivesMissedAlarm).toBeDefined();
  });
});
