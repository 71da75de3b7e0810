import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { LocalExecution } from '../local/step-functions/local-state-machine.js';
import { runRecoveryLocally } from '../local/step-functions/recovery-tasks.js';
import { callerAccount } from '../shared/aws/account.js';
import { clientIn } from '../shared/aws/clients.js';
import { backupBucketName, DEFAULT_STAGE, stateMachineName } from '../shared/naming/stack.js';
import type { Policy } from '../shared/policy/schema.js';
import { type Io, line, printJson } from '../terminal/output.js';
import { noProgress, progressOn } from '../terminal/progress.js';
import { EXIT, UsageError } from './cli-errors.js';

export type MachineName = 'restore-drill' | 'regional-failover';

/** Where a deployed state machine is: its region, the stack's stage, the account. */
export function machineArn(
  region: string,
  account: string,
  machine: MachineName,
  stage = DEFAULT_STAGE,
): string {
  return `arn:aws:states:${region}:${account}:stateMachine:${stateMachineName(stage, machine)}`;
}

/** An execution name: what it is, for whom, when (Step Functions allows 80 characters). */
export function executionName(kind: 'drill' | 'failover', target: string, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${kind}-${target}-${stamp}`.slice(0, 80);
}

/** Starts an execution of a deployed state machine; returns its ARN. */
export async function startExecution(arn: string, name: string, input: unknown): Promise<string> {
  const region = arn.split(':')[3] ?? '';
  const out = await clientIn(SFNClient, region).send(
    new StartExecutionCommand({ stateMachineArn: arn, name, input: JSON.stringify(input) }),
  );
  return out.executionArn ?? '';
}

/** An execution ARN given on the command line. */
export function parseExecutionArn(arn: string, machine: MachineName): { region: string } {
  const match = /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:execution:([^:]+):[^:]+$/.exec(arn);
  if (!match?.[1] || !match[2]?.endsWith(machine)) {
    throw new UsageError(
      `${arn}: not an execution of the ${machine} state machine (arn:aws:states:<region>:<account>:execution:lifeboat-<stage>-${machine}:<name>)`,
    );
  }
  return { region: match[1] };
}

export type Execution = Pick<
  DescribeExecutionCommandOutput,
  'status' | 'startDate' | 'stopDate' | 'output' | 'error' | 'cause' | 'executionArn'
>;

/** Looks at an execution; with `wait`, until it is no longer running, telling each state. */
export async function followExecution(
  arn: string,
  region: string,
  wait: boolean,
  pauseMs = 15_000,
  onWait: (execution: Execution, state: string | undefined) => void = () => undefined,
): Promise<Execution> {
  const sfn = clientIn(SFNClient, region);
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    if (!wait || execution.status !== 'RUNNING') return execution;
    onWait(execution, await currentState(sfn, arn));
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}

/** The state a running execution is in: the newest state entered in its history. */
async function currentState(sfn: SFNClient, arn: string): Promise<string | undefined> {
  try {
    const history = await sfn.send(
      new GetExecutionHistoryCommand({ executionArn: arn, reverseOrder: true, maxResults: 20 }),
    );
    return history.events?.find((e) => e.stateEnteredEventDetails)?.stateEnteredEventDetails?.name;
  } catch {
    // Progress only: a caller that may not read the history still follows the status.
    return undefined;
  }
}

/** Exit code of a finished (or running) execution: 0 succeeded or running, 1 otherwise. */
export function executionExit(status: string | undefined): number {
  return status === 'SUCCEEDED' || status === 'RUNNING' ? 0 : 1;
}

/** Prints an execution: its status, and its result or why it failed. */
export function printExecution(io: Io, execution: Execution, json: boolean | undefined): void {
  const output = execution.output ? (JSON.parse(execution.output) as unknown) : null;
  if (json) {
    printJson(io, { ...execution, output });
    return;
  }
  line(io.out, `${execution.executionArn}`);
  line(io.out, `  status   ${execution.status}`);
  line(io.out, `  started  ${execution.startDate?.toISOString() ?? '-'}`);
  if (execution.stopDate) line(io.out, `  stopped  ${execution.stopDate.toISOString()}`);
  if (execution.error) line(io.out, `  error    ${execution.error}: ${execution.cause ?? ''}`);
  if (output && typeof output === 'object') {
    for (const [key, value] of Object.entries(output))
      line(io.out, `  ${key.padEnd(8)} ${String(value)}`);
  }
}

/** Prints a run of the definition in this process: the states it went through and its result. */
export function printLocalExecution(
  io: Io,
  execution: LocalExecution,
  json: boolean | undefined,
): void {
  if (json) {
    printJson(io, execution);
    return;
  }
  line(io.out, `  states   ${execution.path.join(' > ')}`);
  if (execution.retried.length > 0) line(io.out, `  retried  ${execution.retried.join(', ')}`);
  line(io.out, `  status   ${execution.status} after ${execution.transitions} state transitions`);
  if (execution.error) line(io.out, `  error    ${execution.error}: ${execution.cause ?? ''}`);
  if (execution.output && typeof execution.output === 'object') {
    for (const [key, value] of Object.entries(execution.output))
      line(io.out, `  ${key.padEnd(8)} ${String(value)}`);
  }
}

/** How `drill start` and `failover start` run their machine. */
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

/**
 * Starts the deployed state machine with the input and follows it as asked; or with --local
 * runs the same definition here, against the AWS the environment points to.
 */
export async function runMachine(
  io: Io,
  machine: MachineName,
  run: {
    readonly policy: Policy;
    readonly region: string;
    readonly input: unknown;
    readonly name: string;
  },
  options: RunOptions,
): Promise<number> {
  const { policy, region, input, name } = run;
  if (options.local) {
    const local = await localTargets(policy, region, options);
    if (!options.json) line(io.out, `${machine} in ${region}, run here (${name})`);
    const progress = options.json ? noProgress : progressOn(io.err);
    progress.step(`${machine} ${name}`);
    const execution = await runRecoveryLocally(
      machine,
      input,
      { policy, region, ...local },
      {
        waits: options.instantWaits ? 'instant' : 'real',
        executionName: name,
        onStateEntered: (state) => progress.state(state),
      },
    ).finally(() => progress.done());
    printLocalExecution(io, execution, options.json);
    return execution.status === 'SUCCEEDED' ? EXIT.ok : EXIT.failed;
  }
  const account = await callerAccount(region);
  const arn = await startExecution(
    machineArn(region, account, machine, options.stage),
    name,
    input,
  );
  return followCommand(io, machine, arn, options);
}

/** `drill status` and `failover status`: one execution, followed to its end with --wait. */
export async function followCommand(
  io: Io,
  machine: MachineName,
  arn: string,
  options: { wait?: boolean; json?: boolean },
): Promise<number> {
  const { region } = parseExecutionArn(arn, machine);
  const progress = options.json || !options.wait ? noProgress : progressOn(io.err);
  progress.step(`following ${arn}`);
  const execution = await followExecution(
    arn,
    region,
    options.wait === true,
    15_000,
    (running, state) => progress.state(`${running.status}${state ? ` in ${state}` : ''}`),
  ).finally(() => progress.done());
  printExecution(io, execution, options.json);
  return executionExit(execution.status);
}

/**
 * Where a run here sends its alert and report: the topic must be named (the stack's
 * AlertTopicArn output); the bucket defaults to the stack's bucket in the region.
 */
async function localTargets(
  policy: Policy,
  region: string,
  options: Pick<RunOptions, 'alertTopic' | 'reportBucket'>,
): Promise<{
  alertTopicArn: string;
  reportBucket: string;
  reportCopy?: { region: string; bucket: string };
}> {
  if (!options.alertTopic) {
    throw new UsageError(
      '--local needs --alert-topic <arn>: the stack’s AlertTopicArn output, where the summary goes',
    );
  }
  const account = await callerAccount(region);
  const reportBucket = options.reportBucket ?? backupBucketName(policy.name, account, region);
  // As deployed: a report written in the primary region is copied to the DR region's bucket.
  const copies = !options.reportBucket && region === policy.regions.primary;
  return {
    alertTopicArn: options.alertTopic,
    reportBucket,
    ...(copies
      ? {
          reportCopy: {
            region: policy.regions.dr,
            bucket: backupBucketName(policy.name, account, policy.regions.dr),
          },
        }
      : {}),
  };
}
