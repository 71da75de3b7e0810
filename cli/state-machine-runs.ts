import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DEFAULT_STAGE, stateMachineName } from '../deploy/stack-settings.js';
import { clientIn } from '../shared/aws/clients.js';
import { UsageError } from './cli-errors.js';
import type { LocalExecution } from './local-sfn/local-state-machine.js';
import { type Io, line, printJson } from './output.js';

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

/** Looks at an execution; with `wait`, until it is no longer running. */
export async function followExecution(
  arn: string,
  region: string,
  wait: boolean,
  pauseMs = 15_000,
  onWait: (execution: Execution) => void = () => undefined,
): Promise<Execution> {
  const sfn = clientIn(SFNClient, region);
  for (;;) {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: arn }));
    if (!wait || execution.status !== 'RUNNING') return execution;
    onWait(execution);
    await new Promise((r) => setTimeout(r, pauseMs));
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
