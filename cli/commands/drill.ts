import { drillPolicyOf } from '../../shared/drills/drill-plan.js';
import { connectPostgres } from '../../shared/drills/pg-session.js';
import { httpProbe } from '../../shared/failover/health.js';
import { loadPolicyFile, policyPath } from '../../shared/policy/policy-file.js';
import type { Policy } from '../../shared/policy/schema.js';
import { backupBucketName } from '../../shared/vault/vault.js';
import { callerAccount } from '../account.js';
import { EXIT, UsageError } from '../cli-errors.js';
import { runRecoveryLocally } from '../local-sfn/recovery-tasks.js';
import { type Io, line } from '../output.js';
import {
  executionExit,
  executionName,
  followExecution,
  machineArn,
  parseExecutionArn,
  printExecution,
  printLocalExecution,
  startExecution,
} from '../state-machine-runs.js';

export interface RunOptions {
  policy?: string;
  stage?: string;
  wait?: boolean;
  local?: boolean;
  alertTopic?: string;
  reportBucket?: string;
  instantWaits?: boolean;
  json?: boolean;
}

/** The region drills run in: the policy's drill site. */
export function drillRegion(policy: Policy): string {
  return drillPolicyOf(policy).site === 'dr' ? policy.regions.dr : policy.regions.primary;
}

/**
 * `lifeboat drill start`: starts the deployed restore-drill state machine for one database, or
 * with --local runs the same definition here against the AWS the environment points to.
 */
export async function drillStartCommand(
  options: RunOptions & { target: string; pick?: string; snapshot?: string },
  io: Io,
): Promise<number> {
  const policy = loadPolicyFile(policyPath(options.policy));
  if (!policy.drills)
    throw new UsageError('the policy has no drills section: add one to drill a database');
  if (!policy.drills.databases[options.target]) {
    throw new UsageError(
      `--target ${options.target}: the policy drills ${Object.keys(policy.drills.databases).join(', ')}`,
    );
  }
  if (
    options.pick !== undefined &&
    options.pick !== 'latest-verified' &&
    options.pick !== 'random'
  ) {
    throw new UsageError(`--pick ${options.pick}: must be latest-verified or random`);
  }
  const input = {
    target: options.target,
    ...(options.pick ? { pick: options.pick } : {}),
    ...(options.snapshot ? { snapshotId: options.snapshot } : {}),
  };
  const region = drillRegion(policy);
  const name = executionName('drill', options.target, new Date());
  if (options.local) {
    const local = await localTargets(policy, region, options);
    if (!options.json) line(io.out, `Drill of ${options.target} in ${region}, run here (${name})`);
    const execution = await runRecoveryLocally(
      'restore-drill',
      input,
      { policy, region, ...local, connect: connectPostgres, probe: httpProbe },
      { waits: options.instantWaits ? 'instant' : 'real', executionName: name },
    );
    printLocalExecution(io, execution, options.json);
    return execution.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed;
  }
  const account = await callerAccount(region);
  const arn = await startExecution(
    machineArn(region, account, 'restore-drill', options.stage),
    name,
    input,
  );
  return follow(io, arn, region, options);
}

/** `lifeboat drill status <execution>`: where a drill is, and its report when done. */
export async function drillStatusCommand(
  execution: string,
  options: { wait?: boolean; json?: boolean },
  io: Io,
): Promise<number> {
  const { region } = parseExecutionArn(execution, 'restore-drill');
  return follow(io, execution, region, options);
}

export async function follow(
  io: Io,
  arn: string,
  region: string,
  options: { wait?: boolean; json?: boolean },
): Promise<number> {
  if (!options.json && options.wait) line(io.err, `following ${arn} ...`);
  const execution = await followExecution(arn, region, options.wait === true);
  printExecution(io, execution, options.json);
  return executionExit(execution.status);
}

/**
 * Where a run here sends its alert and report: the topic must be named (the stack's
 * AlertTopicArn output); the bucket defaults to the stack's bucket in the region.
 */
export async function localTargets(
  policy: Policy,
  region: string,
  options: Pick<RunOptions, 'alertTopic' | 'reportBucket'>,
): Promise<{ alertTopicArn: string; reportBucket: string }> {
  if (!options.alertTopic) {
    throw new UsageError(
      '--local needs --alert-topic <arn>: the stack’s AlertTopicArn output, where the summary goes',
    );
  }
  const reportBucket =
    options.reportBucket ?? backupBucketName(policy.name, await callerAccount(region), region);
  return { alertTopicArn: options.alertTopic, reportBucket };
}
