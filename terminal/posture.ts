import { objectiveText } from '../shared/policy/objective.js';
import {
  continuousText,
  copiesWaitingText,
  type DatabasePosture,
  type Posture,
} from '../shared/posture/posture.js';
import { type Io, line, table } from './output.js';

const age = (seconds: number | null) => (seconds === null ? '-' : objectiveText(seconds));
const verdict = (holds: boolean | null) => (holds === null ? '-' : holds ? 'met' : 'MISSED');

/** The posture for people: one row per database, then what falls short and who is unprotected. */
export function printPosture(io: Io, posture: Posture): void {
  line(io.out, `Posture of policy ${posture.policy} at ${posture.at}`);
  line(
    io.out,
    table(
      [
        'DATABASE',
        'TIER',
        'RPO',
        'NOW',
        'DR NOW',
        'RTO',
        'LAST DRILL',
        'CONTINUOUS',
        'VERIFIED',
        'HOLDS',
      ],
      posture.databases.map((d) => [
        `${d.kind} ${d.identifier}`,
        d.objectives?.tier ?? '-',
        d.objectives ? objectiveText(d.objectives.rpoSeconds) : '-',
        age(d.primary.rpoSeconds),
        age(d.dr.rpoSeconds),
        d.objectives ? objectiveText(d.objectives.rtoSeconds) : '-',
        drill(d),
        continuousText(d, (n) => `${n}d`),
        d.verifiedAgeSeconds === null ? 'none' : `${age(d.verifiedAgeSeconds)} old`,
        `RPO ${verdict(d.holds.rpo)}, DR ${verdict(d.holds.drRpo)}, RTO ${verdict(d.holds.rto)}, verified ${verdict(d.holds.verified)}`,
      ]),
    ),
  );
  const gaps = posture.databases.flatMap((d) => d.gaps.map((g) => `${d.identifier}: ${g}`));
  for (const gap of gaps) line(io.out, `  gap: ${gap}`);
  const waiting = copiesWaitingText(posture);
  if (waiting) line(io.out, `  ${waiting}`);
  for (const problem of posture.problems) line(io.out, `  problem: ${problem.message}`);
  if (posture.unprotected.length > 0) {
    line(
      io.out,
      `Unprotected (no target covers them): ${posture.unprotected.map((u) => `${u.kind} ${u.identifier}`).join(', ')}`,
    );
  }
}

function drill(d: DatabasePosture): string {
  const last = d.lastDrill;
  if (!last) return 'never';
  return `${last.at.slice(0, 10)} ${last.succeeded ? 'ok' : 'FAILED'}, RTO ${age(last.rtoSeconds)}`;
}
