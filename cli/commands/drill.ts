import { DrillInputSchema } from '../../shared/drills/drill-contract.js';
import { drillPolicyOf } from '../../shared/drills/drill-plan.js';
import { loadPolicyFile, policyPath } from '../../shared/policy/policy-file.js';
import { drillRegionOf } from '../../shared/policy/regions.js';
import type { Policy } from '../../shared/policy/schema.js';
import type { Io } from '../../terminal/output.js';
import { UsageError } from '../cli-errors.js';
import {
  executionName,
  followCommand,
  type RunOptions,
  runMachine,
} from '../state-machine-runs.js';

/** The region drills run in: the policy's drill site. */
export function drillRegion(policy: Policy): string {
  drillPolicyOf(policy);
  return drillRegionOf(policy);
}

/**
 * `lifeboat drill start`: starts the deployed restore-drill state machine for one database, or
 * with --local runs the same definition here against the AWS the environment points to.
 */
/** How a drill may pick its restore point: the drill input's own choices. */
const PICKS: readonly string[] = DrillInputSchema.shape.pick.def.innerType.options;

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
  if (options.pick !== undefined && !PICKS.includes(options.pick)) {
    throw new UsageError(
      `--pick ${options.pick}: must be ${PICKS.join(', ').replace(/, (?=[^,]*$)/, ' or ')}`,
    );
  }
  const input = {
    target: options.target,
    ...(options.pick ? { pick: options.pick } : {}),
    ...(options.snapshot ? { snapshotId: options.snapshot } : {}),
  };
  return runMachine(
    io,
    'restore-drill',
    {
      policy,
      region: drillRegion(policy),
      input,
      name: executionName('drill', options.target, new Date()),
    },
    options,
  );
}

/** `lifeboat drill status <execution>`: where a drill is, and its report when done. */
export function drillStatusCommand(
  execution: string,
  options: { wait?: boolean; json?: boolean },
  io: Io,
): Promise<number> {
  return followCommand(io, 'restore-drill', execution, options);
}
