import { errorSummary } from '../observability/job-log.js';
import { publishReport, type ReportSink } from '../reports/publish-report.js';
import { caughtText, duration } from '../reports/report-text.js';
import { parseEvent } from '../validation/parse-event.js';
import {
  type CheckOutcome,
  type DrillPlan,
  type DrillState,
  DrillStateSchema,
} from './drill-contract.js';

/** What a drill proved, and how long recovery took. */
export interface DrillReport {
  readonly drillId: string;
  readonly policy: string;
  readonly target: string;
  readonly region: string;
  readonly kind: DrillPlan['kind'];
  readonly snapshot: {
    readonly id: string;
    readonly time: string;
    readonly verifiedAt: string | null;
  };
  /** A snapshot restored, or continuous backups restored to the snapshot's time. */
  readonly restore: DrillPlan['restore'];
  /** The data was proven and nothing was left behind (whatever the objectives say). */
  readonly succeeded: boolean;
  /**
   * passed: proven within the objectives (or none set); objective missed: proven, but slower or
   * older than the tier allows; failed: not proven, or not cleaned up.
   */
  readonly outcome: 'passed' | 'objective missed' | 'failed';
  /** The tier's objectives and whether this drill met each (null: not measured). */
  readonly objectives: {
    readonly tier: string;
    readonly rtoSeconds: number;
    readonly rpoSeconds: number;
    readonly rtoMet: boolean | null;
    readonly rpoMet: boolean | null;
  } | null;
  /** Why the drill failed, in a sentence; null when it succeeded. */
  readonly failure: string | null;
  readonly startedAt: string;
  /** When the restored database was seen available. */
  readonly availableAt: string | null;
  /** When the smoke checks passed: the end of the recovery. */
  readonly checkedAt: string | null;
  readonly finishedAt: string;
  /** Drill start to smoke checks passed; null when they did not pass. */
  readonly rtoSeconds: number | null;
  /** Drill start to available: the part of the RTO spent restoring. */
  readonly restoreSeconds: number | null;
  /**
   * Drill start minus the newest data found (or the snapshot's time without a freshness query);
   * null when no restored database answered.
   */
  readonly rpoSeconds: number | null;
  readonly rpoBasis: 'newest-row' | 'snapshot-time';
  readonly polls: number;
  readonly checks: readonly CheckOutcome[];
  readonly teardown: {
    readonly done: boolean;
    readonly attempts: number;
    readonly deleted: readonly string[];
    readonly left: readonly string[];
    readonly error: string | null;
  };
  /** A drill of the vault's copy: which copy, and whether its share with this account ended. */
  readonly vaultCopy?: VaultShare;
}

/** The vault's copy a drill restored, and how its share for the drill ended. */
export interface VaultShare {
  readonly account: string;
  readonly snapshotId: string;
  readonly shareEnded: boolean;
  readonly error: string | null;
}

const seconds = (from: string, to: string) =>
  Math.round((Date.parse(to) - Date.parse(from)) / 1000);

/** Builds the report from the drill's final state. */
export function drillReport(event: unknown, finishedAt: Date, share?: VaultShare): DrillReport {
  const state = parseEvent(DrillStateSchema, event);
  const { plan, checks, poll, teardown } = state;
  const availableAt = poll?.state === 'available' ? (poll.observedAt ?? null) : null;
  const passed = checks?.passed === true;
  const teardownDone = teardown?.done === true && !state.teardownError;
  const everything = [plan.instanceId, ...(plan.clusterId ? [plan.clusterId] : [])];
  const left = teardownDone ? [] : teardown?.pending.length ? teardown.pending : everything;
  const rpoBasis = checks?.newestData ? 'newest-row' : 'snapshot-time';
  const newest = checks?.newestData ?? plan.snapshot.time;
  const failure = failureOf(state, passed, teardownDone, share);
  const rtoSeconds = passed && checks ? seconds(plan.startedAt, checks.checkedAt) : null;
  // Without a restored database that answered, there is no recovery point to speak of.
  const rpoSeconds = checks ? seconds(newest, plan.startedAt) : null;
  const objectives = plan.objectives
    ? {
        ...plan.objectives,
        rtoMet: rtoSeconds === null ? null : rtoSeconds <= plan.objectives.rtoSeconds,
        rpoMet: rpoSeconds === null ? null : rpoSeconds <= plan.objectives.rpoSeconds,
      }
    : null;
  const missed = objectives?.rtoMet === false || objectives?.rpoMet === false;
  return {
    drillId: plan.drillId,
    policy: plan.policy,
    target: plan.target,
    region: plan.region,
    kind: plan.kind,
    snapshot: plan.snapshot,
    restore: plan.restore,
    succeeded: failure === null,
    outcome: failure !== null ? 'failed' : missed ? 'objective missed' : 'passed',
    objectives,
    failure,
    startedAt: plan.startedAt,
    availableAt,
    checkedAt: passed ? (checks?.checkedAt ?? null) : null,
    finishedAt: finishedAt.toISOString(),
    rtoSeconds,
    restoreSeconds: availableAt ? seconds(plan.startedAt, availableAt) : null,
    rpoSeconds,
    rpoBasis,
    polls: poll?.count ?? 0,
    checks: checks?.checks ?? [],
    teardown: {
      done: teardownDone,
      attempts: teardown?.attempts ?? 0,
      deleted: [...(teardown?.deleted ?? []), ...(teardown?.gone ?? [])],
      left,
      error: state.teardownError ? caughtText(state.teardownError) : null,
    },
    ...(share ? { vaultCopy: share } : {}),
  };
}

function failureOf(
  state: DrillState,
  passed: boolean,
  teardownDone: boolean,
  share: VaultShare | undefined,
): string | null {
  const reasons: string[] = [];
  if (state.error) reasons.push(caughtText(state.error));
  else if (state.checks && !passed) {
    const failed = state.checks.checks.filter((c) => !c.passed).map((c) => c.name);
    reasons.push(`smoke checks failed: ${failed.join(', ')}`);
  } else if (!state.checks) reasons.push('the smoke checks did not run');
  if (!teardownDone) reasons.push('teardown did not finish: the janitor deletes what is left');
  if (share && !share.shareEnded) {
    reasons.push(
      `the vault's copy ${share.snapshotId} is still shared with this account (${share.error}): stop sharing it in the vault account`,
    );
  }
  return reasons.length > 0 ? reasons.join('; ') : null;
}

/** The report for people: what was restored, the measurements, every check, the cleanup. */
export function drillReportMarkdown(report: DrillReport): string {
  const o = report.objectives;
  const against = (met: boolean | null | undefined, objective: number | undefined) =>
    o && objective !== undefined
      ? `; objective ${duration(objective)} (tier ${o.tier}): ${met === null ? 'not measured' : met ? 'met' : 'MISSED'}`
      : '';
  const restorePoint =
    report.restore === 'point-in-time'
      ? `point in time ${report.snapshot.time} of ${report.target}'s continuous backups`
      : `${report.snapshot.id} taken ${report.snapshot.time}${report.snapshot.verifiedAt ? `, verified ${report.snapshot.verifiedAt}` : ', not verified'}`;
  const lines = [
    `# Restore drill ${report.drillId}: ${drillOutcomeText(report)}`,
    '',
    `- Target: ${report.target} (${report.kind}) in ${report.region}, policy ${report.policy}`,
    `- Restore point: ${restorePoint}`,
    ...(report.vaultCopy
      ? [
          `- From the vault account ${report.vaultCopy.account}: its copy, shared with this account for the drill; ${report.vaultCopy.shareEnded ? 'the share has ended' : `STILL SHARED (${report.vaultCopy.error})`}`,
        ]
      : []),
    `- Started ${report.startedAt}; available ${report.availableAt ?? 'never'}; checks passed ${report.checkedAt ?? 'never'}`,
    `- RTO: ${duration(report.rtoSeconds)} (restore ${duration(report.restoreSeconds)}, ${report.polls} polls)${against(o?.rtoMet, o?.rtoSeconds)}`,
    `- RPO: ${duration(report.rpoSeconds)} (${report.rpoBasis === 'newest-row' ? 'drill start minus the newest row restored' : `drill start minus the ${report.restore === 'point-in-time' ? 'instant restored' : 'snapshot time'}`})${against(o?.rpoMet, o?.rpoSeconds)}`,
    ...(report.failure ? [`- Failure: ${report.failure}`] : []),
    '',
    '| Check | Expected | Value | Result |',
    '| --- | --- | --- | --- |',
    ...report.checks.map(
      (c) =>
        `| ${cell(c.name)} | ${cell(c.expected)} | ${cell(String(c.value ?? c.error ?? ''))} | ${c.passed ? 'pass' : 'FAIL'} |`,
    ),
    ...(report.checks.length === 0 ? ['| (none ran) | | | |'] : []),
    '',
    `Teardown: ${report.teardown.done ? `done after ${report.teardown.attempts} attempt(s), deleted ${report.teardown.deleted.join(', ') || 'nothing'}` : `NOT done: ${report.teardown.left.join(', ')} left${report.teardown.error ? ` (${report.teardown.error})` : ''}`}`,
    '',
  ];
  return lines.join('\n');
}

/** The drill's outcome in a word or two: succeeded, OBJECTIVE MISSED, FAILED. */
export function drillOutcomeText(report: Pick<DrillReport, 'outcome'>): string {
  return report.outcome === 'passed'
    ? 'succeeded'
    : report.outcome === 'objective missed'
      ? 'OBJECTIVE MISSED'
      : 'FAILED';
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** Stores the report in the drill region's bucket and sends the one SNS summary. */
export function publishDrillReport(
  sink: ReportSink,
  report: DrillReport,
): Promise<{ json: string; markdown: string }> {
  return publishReport(
    sink,
    `drills/${report.policy}/${report.drillId}/report`,
    report,
    drillReportMarkdown(report),
    `Lifeboat drill of ${report.target}: ${drillOutcomeText(report)}`,
  );
}

/** What the Report task hands back to the state machine: the verdict and where the report is. */
export interface DrillSummary {
  readonly succeeded: boolean;
  readonly outcome: DrillReport['outcome'];
  readonly failure: string | null;
  readonly rtoSeconds: number | null;
  readonly rpoSeconds: number | null;
  readonly json: string;
  readonly markdown: string;
}

/** The Report task: builds the report from the drill's state, stores it and sends the summary. */
export async function reportDrill(
  sink: ReportSink,
  event: unknown,
  finishedAt: Date,
  /** Ends the share of the vault's copy with this account (site vault); throws if it cannot. */
  endShare?: (copy: NonNullable<DrillPlan['vaultCopy']>) => Promise<void>,
): Promise<{ report: DrillReport; summary: DrillSummary }> {
  const copy = parseEvent(DrillStateSchema, event).plan.vaultCopy;
  let share: VaultShare | undefined;
  if (copy) {
    const base = { account: copy.account, snapshotId: copy.snapshotId };
    try {
      if (!endShare) throw new Error('this report cannot reach the vault account');
      await endShare(copy);
      share = { ...base, shareEnded: true, error: null };
    } catch (error) {
      share = { ...base, shareEnded: false, error: errorSummary(error) };
    }
  }
  const report = drillReport(event, finishedAt, share);
  const location = await publishDrillReport(sink, report);
  return { report, summary: drillSummary(report, location) };
}

/** The verdict the state machine branches on, and where the report is. */
export function drillSummary(
  report: DrillReport,
  location: { readonly json: string; readonly markdown: string },
): DrillSummary {
  const { succeeded, outcome, rtoSeconds, rpoSeconds } = report;
  const failure =
    report.failure ?? (outcome === 'objective missed' ? objectiveMissText(report) : null);
  return { succeeded, outcome, failure, rtoSeconds, rpoSeconds, ...location };
}

/** Which objective a drill missed, and by how much, in a sentence. */
export function objectiveMissText(
  report: Pick<DrillReport, 'objectives' | 'rtoSeconds' | 'rpoSeconds'>,
): string {
  const o = report.objectives;
  const missed: string[] = [];
  if (o?.rtoMet === false)
    missed.push(
      `RTO ${duration(report.rtoSeconds)} is over the ${duration(o.rtoSeconds)} objective`,
    );
  if (o?.rpoMet === false)
    missed.push(
      `RPO ${duration(report.rpoSeconds)} is over the ${duration(o.rpoSeconds)} objective`,
    );
  return `the data was proven, but ${missed.join(' and ')} of tier ${o?.tier}`;
}
