import { existsSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StateMachineName } from '../../shared/naming/stack.js';
import { loadPolicyFile } from '../../shared/policy/policy-file.js';
import { loadDefinition } from '../../state-machines/definitions.js';

// `npm test` packages the primary stack into .serverless and the DR stack into .serverless-dr.
const PRIMARY = '.serverless-primary/cloudformation-template-update-stack.json';
const DR = '.serverless-dr/cloudformation-template-update-stack.json';

interface Resource {
  Type: string;
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form JSON, read by assertions
  Properties: Record<string, any>;
}

type Resources = Record<string, Resource>;

const policy = loadPolicyFile('lifeboat.policy.yml');
let primary: Resources;
let dr: Resources;

beforeAll(() => {
  for (const file of [PRIMARY, DR]) {
    if (!existsSync(file))
      throw new Error(`${file} is missing: run npm run package first (npm test does)`);
  }
  primary = JSON.parse(readFileSync(PRIMARY, 'utf8')).Resources;
  dr = JSON.parse(readFileSync(DR, 'utf8')).Resources;
});

function statements(
  role: Resource | undefined,
): { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: unknown }[] {
  return (role?.Properties.Policies ?? []).flatMap(
    (p: { PolicyDocument: { Statement: unknown[] } }) => p.PolicyDocument.Statement,
  );
}

const asList = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const ofType = (resources: Resources, type: string) =>
  Object.entries(resources).filter(([, r]) => r.Type === type);

/** The deployed definition: the Fn::Sub template with each Lambda placeholder named by its target. */
function deployedDefinition(machine: Resource): {
  States: Record<string, { Resource?: string }>;
  lambdas: Record<string, unknown>;
} {
  const [template, values] = machine.Properties.DefinitionString['Fn::Sub'] as [
    string,
    Record<string, unknown>,
  ];
  return { ...JSON.parse(template), lambdas: values };
}

function expectSameDefinition(machine: Resource, name: StateMachineName) {
  const source = loadDefinition(name);
  const deployed = deployedDefinition(machine);
  expect(Object.keys(deployed.States)).toEqual(Object.keys(source.States));
  for (const [state, definition] of Object.entries(source.States)) {
    const getAtt = (definition.Resource as { 'Fn::GetAtt'?: [string, string] } | undefined)?.[
      'Fn::GetAtt'
    ];
    const placeholder = /^\$\{(\w+)\}$/.exec(deployed.States[state]?.Resource ?? '')?.[1];
    if (getAtt) {
      // Each Lambda task calls its function from serverless.yml.
      const fn = getAtt[0];
      const logicalId = `${fn.charAt(0).toUpperCase()}${fn.slice(1)}LambdaFunction`;
      expect(deployed.lambdas[placeholder ?? '']).toEqual({ 'Fn::GetAtt': [logicalId, 'Arn'] });
    } else {
      const { Resource: _, ...rest } = definition;
      // The plugin spells out the default query language on every state.
      const {
        Resource: __,
        QueryLanguage,
        ...deployedRest
      } = deployed.States[state] as Record<string, unknown>;
      expect(QueryLanguage).toBe('JSONPath');
      expect(deployedRest).toEqual(rest);
      expect(deployed.States[state]?.Resource).toEqual(definition.Resource);
    }
  }
}

describe('restore-drill in the packaged primary stack', () => {
  it('deploys state-machines/restore-drill.asl.yml as it is, calling the drill functions', () => {
    const machine = primary.RestoreDrillStateMachine as Resource;
    expect(machine.Properties.RoleArn).toEqual({
      'Fn::GetAtt': ['RestoreDrillStateMachineRole', 'Arn'],
    });
    expectSameDefinition(machine, 'restore-drill');
  });

  it('starts one drill per database on the policy’s schedule, in its time zone', () => {
    const schedules = ofType(primary, 'AWS::Scheduler::Schedule')
      .map(([, s]) => s.Properties)
      .filter((p) => p.Target.Arn.Ref === 'RestoreDrillStateMachine');
    expect(schedules.map((p) => JSON.parse(p.Target.Input))).toEqual(
      Object.keys(policy.drills?.databases ?? {}).map((target) => ({ target })),
    );
    for (const p of schedules) {
      expect(p).toMatchObject({
        ScheduleExpression: policy.drills?.schedule,
        ScheduleExpressionTimezone: policy.timeZone,
        State: 'ENABLED',
      });
    }
  });

  it('alarms on failed, timed-out, aborted and throttled executions, to the alert topic', () => {
    const alarms = ofType(primary, 'AWS::CloudWatch::Alarm')
      .map(([, a]) => a.Properties)
      .filter((a) => a.Namespace === 'AWS/States');
    expect(alarms.map((a) => a.MetricName).sort()).toEqual([
      'ExecutionThrottled',
      'ExecutionsAborted',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
    ]);
    for (const a of alarms) expect(a.AlarmActions).toEqual([{ Ref: 'AlertTopic' }]);
  });

  it('lets teardown and the janitor delete only lb-drill-* databases carrying the drill tag', () => {
    for (const role of ['DrillTeardownRole', 'DrillJanitorRole']) {
      const deletes = statements(primary[role]).filter((s) =>
        asList(s.Action).some((a) => a.startsWith('rds:Delete')),
      );
      expect(deletes.map((s) => s.Action).sort()).toEqual([
        'rds:DeleteDBCluster',
        'rds:DeleteDBInstance',
      ]);
      for (const s of deletes) {
        expect(JSON.stringify(s.Resource)).toMatch(/:(db|cluster):lb-drill-\*'?"?\}?$/);
        expect(JSON.stringify(s.Condition)).toMatch(/rds:(db|cluster)-tag\/lifeboat:drill/);
      }
    }
  });

  it('runs the smoke checks in the policy’s subnets and reads only the drill credentials', () => {
    const smoke = primary.DrillSmokeLambdaFunction as Resource;
    expect(smoke.Properties.VpcConfig).toEqual({
      SubnetIds: policy.drills?.network.lambdaSubnetIds,
      SecurityGroupIds: policy.drills?.network.lambdaSecurityGroupIds,
    });
    const read = statements(primary.DrillSmokeRole).find((s) =>
      asList(s.Action).includes('secretsmanager:GetSecretValue'),
    );
    expect(read?.Resource).toEqual([
      {
        'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:${policy.regions.primary}:\${AWS::AccountId}:secret:prod/orders-db/master-??????`,
      },
    ]);
  });

  it('stores reports in the stack’s own bucket under the policy', () => {
    expect(
      (primary.DrillReportLambdaFunction as Resource).Properties.Environment.Variables
        .REPORT_BUCKET,
    ).toEqual({ Ref: 'BackupBucket' });
    const put = statements(primary.DrillReportRole).find((s) =>
      asList(s.Action).includes('s3:PutObject'),
    );
    expect(put?.Resource).toEqual({ 'Fn::Sub': `\${BackupBucket.Arn}/drills/${policy.name}/*` });
  });

  it('has no failover machine: failover runs in the DR region', () => {
    expect(primary.RegionalFailoverStateMachine).toBeUndefined();
  });
});

describe('regional-failover in the packaged DR stack', () => {
  it('deploys state-machines/regional-failover.asl.yml as it is, started by hand only', () => {
    const machine = dr.RegionalFailoverStateMachine as Resource;
    expect(machine.Properties.RoleArn).toEqual({
      'Fn::GetAtt': ['RegionalFailoverStateMachineRole', 'Arn'],
    });
    expectSameDefinition(machine, 'regional-failover');
    const started = ofType(dr, 'AWS::Scheduler::Schedule').filter(
      ([, s]) => s.Properties.Target.Arn.Ref === 'RegionalFailoverStateMachine',
    );
    expect(started).toEqual([]);
  });

  it('promotes only the policy’s replica and switches only the policy’s zone', () => {
    const role = statements(dr.RegionalFailoverStateMachineRole);
    const promote = role.find((s) => asList(s.Action).includes('rds:PromoteReadReplica'));
    const dns = role.find((s) => asList(s.Action).includes('route53:ChangeResourceRecordSets'));
    expect(promote?.Resource).toEqual([
      {
        'Fn::Sub': `arn:\${AWS::Partition}:rds:${policy.regions.dr}:\${AWS::AccountId}:db:orders-db-dr`,
      },
    ]);
    expect(dns?.Resource).toEqual([
      {
        'Fn::Sub': `arn:\${AWS::Partition}:route53:::hostedzone/${policy.failover?.databases['orders-db']?.dns.hostedZoneId}`,
      },
    ]);
  });

  it('runs no drill where the policy does not drill, and keeps the backup jobs off', () => {
    expect(dr.RestoreDrillStateMachine).toBeUndefined();
    const states = Object.fromEntries(
      ofType(dr, 'AWS::Scheduler::Schedule').map(([, s]) => [
        s.Properties.Target.Arn['Fn::GetAtt']?.[0],
        s.Properties.State,
      ]),
    );
    expect(states).toMatchObject({
      SnapshotRdsLambdaFunction: 'DISABLED',
      DrillJanitorLambdaFunction: 'DISABLED',
    });
  });
});
