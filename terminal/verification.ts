import type { Policy } from '../shared/policy/schema.js';
import type { VerificationJobResult } from '../shared/verification/verification-job.js';
import { type Io, line, table } from './output.js';

/** A verification's result for people: each run's status, and every check that did not pass. */
export function printVerification(
  io: Io,
  result: VerificationJobResult,
  policy: Pick<Policy, 'name'>,
): void {
  line(io.out, `Verification of ${result.runs.length} run(s) of policy ${policy.name}`);
  line(
    io.out,
    `  read from s3://${result.site.bucket} (the ${result.site.name === 'dr' ? 'DR region’s copy of the vault' : 'primary vault'})${result.site.notConsulted ? `; ${result.site.notConsulted} not consulted: its snapshots are not checked` : ''}`,
  );
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
