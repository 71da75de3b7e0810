import { preflightDeps } from '../../functions/failover-preflight.js';
import { rdsIn } from '../../shared/aws/clients.js';
import { confirmationPhrase } from '../../shared/failover/failover-contract.js';
import { plannedSteps } from '../../shared/failover/failover-steps.js';
import { assessFailover, failoverDatabaseOf } from '../../shared/failover/preflight.js';
import { rebuildReplica } from '../../shared/failover/rebuild-replica.js';
import { loadPolicyFile, policyPath } from '../../shared/policy/policy-file.js';
import type { Policy } from '../../shared/policy/schema.js';
import { type Io, line, printJson, table } from '../../terminal/output.js';
import { EXIT, UsageError } from '../cli-errors.js';
import {
  executionName,
  followCommand,
  type RunOptions,
  runMachine,
} from '../state-machine-runs.js';

interface FailoverOptions {
  policy?: string;
  target: string;
  planned?: boolean;
  force?: boolean;
  json?: boolean;
}

function policyFor(options: FailoverOptions): Policy {
  const policy = loadPolicyFile(policyPath(options.policy));
  try {
    failoverDatabaseOf(policy, options.target);
  } catch (error) {
    throw new UsageError(`--target ${options.target}: ${(error as Error).message}`);
  }
  return policy;
}

/**
 * `lifeboat failover plan`: a dry run. Checks every precondition from here, against the DR
 * region, and prints each step the failover would take. Changes nothing.
 */
export async function failoverPlanCommand(options: FailoverOptions, io: Io): Promise<number> {
  const policy = policyFor(options);
  const plan = await assessFailover(
    preflightDeps({ region: policy.regions.dr, standIns: {} }),
    policy,
    { target: options.target, planned: options.planned === true, force: options.force === true },
    'plan',
    new Date(),
  );
  const ready = !plan.preconditions.some((p) => p.status === 'fail');
  if (options.json) printJson(io, { ready, steps: plannedSteps(plan), plan });
  else {
    line(
      io.out,
      `Failover of ${plan.target} to ${plan.region} (${plan.planned ? 'planned' : 'unplanned'}${plan.force ? ', forced' : ''}): dry run, nothing changed`,
    );
    line(io.out);
    line(
      io.out,
      table(
        ['PRECONDITION', 'STATUS', 'DETAIL'],
        plan.preconditions.map((p) => [p.name, p.status.toUpperCase(), p.detail]),
      ),
    );
    line(io.out);
    plannedSteps(plan).forEach((step, i) => {
      line(io.out, `${i + 1}. ${step}`);
    });
    line(io.out);
    line(
      io.out,
      ready
        ? `Ready. Start it with: lifeboat failover start --target ${plan.target} --confirm "${confirmationPhrase(plan.target, plan.region)}"${plan.planned ? ' --planned' : ''}${plan.force ? ' --force' : ''}`
        : 'Not ready: the failover would stop at preflight for the preconditions marked FAIL.',
    );
  }
  return ready ? EXIT.ok : EXIT.failed;
}

/**
 * `lifeboat failover start`: starts the deployed regional-failover state machine in the DR
 * region with the typed confirmation, or with --local runs the same definition here.
 */
export async function failoverStartCommand(
  options: FailoverOptions & RunOptions & { confirm?: string },
  io: Io,
): Promise<number> {
  const policy = policyFor(options);
  const region = policy.regions.dr;
  const phrase = confirmationPhrase(options.target, region);
  if (options.confirm !== phrase) {
    throw new UsageError(`a failover must be confirmed: add --confirm "${phrase}"`);
  }
  const input = {
    target: options.target,
    confirm: options.confirm,
    planned: options.planned === true,
    force: options.force === true,
  };
  const name = executionName('failover', options.target, new Date());
  return runMachine(io, 'regional-failover', { policy, region, input, name }, options);
}

/** `lifeboat failover status <execution>`. */
export function failoverStatusCommand(
  execution: string,
  options: { wait?: boolean; json?: boolean },
  io: Io,
): Promise<number> {
  return followCommand(io, 'regional-failover', execution, options);
}

/** `lifeboat failover rebuild-replica`: starts failback with a new replica in the old primary region. */
export async function rebuildReplicaCommand(
  options: { policy?: string; target: string; replicaId?: string; kmsKey?: string; json?: boolean },
  io: Io,
): Promise<number> {
  const policy = policyFor(options);
  const result = await rebuildReplica(
    { primary: rdsIn(policy.regions.primary), dr: rdsIn(policy.regions.dr) },
    policy,
    {
      target: options.target,
      ...(options.replicaId ? { replicaId: options.replicaId } : {}),
      ...(options.kmsKey ? { kmsKeyId: options.kmsKey } : {}),
    },
  );
  if (options.json) printJson(io, result);
  else {
    line(
      io.out,
      `Creating ${result.replicaId} in ${result.region}, a read replica of ${result.source} (${result.status}).`,
    );
    line(io.out, 'When it is available, swap the regions in the policy to fail back the same way.');
  }
  return EXIT.ok;
}
