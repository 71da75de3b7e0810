import { readFileSync } from 'node:fs';
import { definition as enforceRetention } from '../../functions/enforce-retention.js';
import { rdsIn } from '../../shared/aws/clients.js';
import { recorderFor } from '../../shared/jobs/job-wiring.js';
import { loadPolicyFile, policyPath } from '../../shared/policy/policy-file.js';
import {
  readAttributedInventory,
  targetsWithoutSnapshots,
} from '../../shared/retention/retention-job.js';
import { planRetention } from '../../shared/retention/retention-planner.js';
import { type Io, line, printJson } from '../../terminal/output.js';
import { planJson, printPlan } from '../../terminal/retention-plan.js';
import { cliJobEnvironment } from '../account.js';
import { EXIT, UsageError } from '../cli-errors.js';
import { cliLog } from '../cli-log.js';
import { parseInventory } from '../inventory-file.js';

interface PlanOptions {
  policy?: string;
  inventory?: string;
  now?: string;
  bucket?: string;
  json?: boolean;
}

/**
 * `lifeboat retention plan`: the dry run, on the live account (attributed from the vault's
 * signed records, as the job does) or on an inventory file.
 */
export async function retentionPlanCommand(options: PlanOptions, io: Io): Promise<number> {
  const policy = loadPolicyFile(policyPath(options.policy));
  const now = parseNow(options.now);
  const inventory = options.inventory
    ? parseInventory(readText(options.inventory), options.inventory)
    : (
        await readAttributedInventory(
          {
            primary: rdsIn(policy.regions.primary),
            dr: rdsIn(policy.regions.dr),
            recorder: recorderFor(await cliJobEnvironment(policy, { bucket: options.bucket })),
          },
          policy,
        )
      ).snapshots;
  const plan = planRetention(inventory, policy, now);
  const missing = targetsWithoutSnapshots(policy, inventory);
  if (options.json) printJson(io, { ...planJson(plan), targetsWithoutSnapshots: missing });
  else {
    printPlan(io, plan, policy);
    for (const target of missing) {
      line(
        io.out,
        `${target}: no snapshot of it in either region, so nothing to keep or delete (is the identifier right?)`,
      );
    }
  }
  return EXIT.ok;
}

/** `lifeboat retention apply --yes`: plans on the live account and deletes what the plan says. */
export async function retentionApplyCommand(
  options: { policy?: string; yes?: boolean; bucket?: string; json?: boolean },
  io: Io,
): Promise<number> {
  const policy = loadPolicyFile(policyPath(options.policy));
  if (!options.yes) {
    throw new UsageError(
      'retention apply deletes snapshots: run retention plan first, then confirm with --yes',
    );
  }
  const env = await cliJobEnvironment(policy, { ...options, log: cliLog(io) });
  const result = await enforceRetention.run(enforceRetention.wire(env), policy, env.now());
  const failed = result.deletions.filter((d) => d.outcome === 'failed');
  if (options.json) printJson(io, result);
  else {
    line(
      io.out,
      `run ${result.runId}: kept ${result.plan.keep}, deleted ${result.deletions.length - failed.length}, failed ${failed.length}, manifest ${result.manifest}`,
    );
    for (const f of result.failures) line(io.out, `  failed: ${f.subject}: ${f.error}`);
  }
  return result.failures.length > 0 ? EXIT.failed : EXIT.ok;
}

function parseNow(text: string | undefined): Date {
  if (text === undefined) return new Date();
  const now = new Date(text);
  if (Number.isNaN(now.getTime()))
    throw new UsageError(
      `--now ${text}: not a date-time (use ISO 8601, e.g. 2026-11-21T04:30:00Z)`,
    );
  return now;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`${path}: cannot read the inventory file`);
  }
}
