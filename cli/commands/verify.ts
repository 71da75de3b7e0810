import { verificationDeps } from '../../functions/verify-manifest.js';
import { parseRunId } from '../../shared/naming/run-ids.js';
import { loadPolicyFile, policyPath } from '../../shared/policy/policy-file.js';
import type { Policy } from '../../shared/policy/schema.js';
import {
  runVerificationJob,
  type VerificationJobResult,
} from '../../shared/verification/verification-job.js';
import { cliJobEnvironment } from '../account.js';
import { EXIT, UsageError } from '../cli-errors.js';
import { cliLog } from '../cli-log.js';
import { type Io, line, printJson, table } from '../output.js';
import { siteOf } from './secrets.js';

/**
 * `lifeboat verify`: the verification job, now, for the runs in the policy's lookback or the runs
 * named. Downloads nothing unless --deep, which also decrypts each export with the chosen
 * region's key and compares its secrets with the manifest.
 */
export async function verifyCommand(
  options: {
    policy?: string;
    run?: string[];
    deep?: boolean;
    region?: string;
    bucket?: string;
    json?: boolean;
  },
  io: Io,
): Promise<number> {
  const policy = loadPolicyFile(policyPath(options.policy));
  const bad = (options.run ?? []).filter((id) => !parseRunId(id));
  if (bad.length > 0)
    throw new UsageError(
      `--run ${bad.join(', ')}: not a run id (snapshots-<slot>, secrets-<slot> or retention-<slot>)`,
    );
  const site = siteOf(policy, options.region);
  const env = await cliJobEnvironment(policy, { ...options, log: cliLog(io) });
  const result = await runVerificationJob(
    verificationDeps(env, { site, deep: options.deep ?? false }),
    policy,
    new Date(),
    options.run?.length ? { runIds: options.run } : {},
  );
  if (options.json) printJson(io, result);
  else printVerification(io, result, policy);
  return result.failures.length > 0 ? EXIT.failed : EXIT.ok;
}

export function printVerification(
  io: Io,
  result: VerificationJobResult,
  policy: Pick<Policy, 'name'>,
): void {
  line(io.out, `Verification of ${result.runs.length} run(s) of policy ${policy.name}`);
  line(
    io.out,
    table(
      ['RUN', 'STATUS', 'CHECKS', 'MODE'],
      result.runs.map((r) => [
        r.runId,
        r.status.toUpperCase(),
        `${r.checks.filter((c) => c.status === 'passed').length}/${r.checks.length} passed`,
        r.mode,
      ]),
    ),
  );
  const notable = [
    ...result.runs.flatMap((r) =>
      r.checks.filter((c) => c.status !== 'passed').map((c) => ({ run: r.runId, c })),
    ),
    ...result.ledger.filter((c) => c.status !== 'passed').map((c) => ({ run: '(vault)', c })),
  ];
  if (notable.length > 0) {
    line(io.out);
    line(
      io.out,
      table(
        ['RUN', 'CHECK', 'ARTIFACT', 'STATUS', 'WHY'],
        notable.map(({ run, c }) => [run, c.kind, c.artifact, c.status, c.reason]),
      ),
    );
  }
  line(io.out);
  line(
    io.out,
    `Tagged ${result.tagged} snapshot(s) lifeboat:verified-at; ${result.failures.length} failure(s)`,
  );
}
