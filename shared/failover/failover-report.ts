import { publishReport, type ReportSink } from '../reports/publish-report.js';
import { caughtText, duration } from '../reports/report-text.js';
import { parseEvent } from '../validation/parse-event.js';
import { FailoverStateSchema, type Precondition } from './failover-contract.js';
import { type FailoverStep, reportedSteps } from './failover-steps.js';

/** What a failover did and how long the DR site took to serve. */
export interface FailoverReport {
  readonly failoverId: string;
  readonly policy: string;
  readonly target: string;
  readonly region: string;
  readonly kind: 'replica' | 'global';
  readonly planned: boolean;
  readonly forced: boolean;
  readonly succeeded: boolean;
  readonly failure: string | null;
  readonly startedAt: string;
  readonly promotedAt: string | null;
  readonly healthyAt: string | null;
  readonly finishedAt: string;
  /** Failover start to the DR endpoint passing its health check. */
  readonly rtoSeconds: number | null;
  readonly endpoint: string;
  readonly steps: readonly FailoverStep[];
  readonly preconditions: readonly Precondition[];
}

/** Builds the report from the failover's final state. */
export function failoverReport(event: unknown, finishedAt: Date): FailoverReport {
  const state = parseEvent(FailoverStateSchema, event);
  const { preflight, promotion, health } = state;
  const alreadyPromoted = preflight.promotion === 'promoted';
  const promoted = alreadyPromoted || promotion?.state === 'promoted';
  const dnsDone = preflight.dns.switched || state.dnsStatus?.status === 'INSYNC';
  const healthy = health?.healthy === true;
  const endpoint = promotion?.endpoint ?? preflight.endpoint;
  const steps = reportedSteps({ state, promoted, dnsDone, healthy, endpoint });
  const failure = state.error
    ? caughtText(state.error)
    : healthy
      ? null
      : 'the DR endpoint was not verified healthy';
  const healthyAt = healthy ? (health?.checkedAt ?? null) : null;
  return {
    failoverId: preflight.failoverId,
    policy: preflight.policy,
    target: preflight.target,
    region: preflight.region,
    kind: preflight.kind,
    planned: preflight.planned,
    forced: preflight.force,
    succeeded: failure === null,
    failure,
    startedAt: preflight.startedAt,
    promotedAt: promotion?.state === 'promoted' ? promotion.observedAt : null,
    healthyAt,
    finishedAt: finishedAt.toISOString(),
    rtoSeconds: healthyAt
      ? Math.round((Date.parse(healthyAt) - Date.parse(preflight.startedAt)) / 1000)
      : null,
    endpoint,
    steps,
    preconditions: preflight.preconditions,
  };
}

/** The report for people. */
export function failoverReportMarkdown(report: FailoverReport): string {
  return [
    `# Failover ${report.failoverId}: ${report.succeeded ? 'succeeded' : 'FAILED'}`,
    '',
    `- Target: ${report.target} (${report.kind === 'global' ? 'Aurora global database' : 'read replica'}) to ${report.region}, policy ${report.policy}`,
    `- ${report.planned ? 'Planned' : 'Unplanned'}${report.forced ? ', forced (lag not checked)' : ''}; started ${report.startedAt}`,
    `- RTO: ${duration(report.rtoSeconds)} (start to healthy DR endpoint ${report.endpoint})`,
    ...(report.failure ? [`- Failure: ${report.failure}`] : []),
    '',
    '| Step | Outcome | Detail |',
    '| --- | --- | --- |',
    ...report.steps.map((s) => `| ${s.step} | ${s.outcome} | ${s.detail.replace(/\|/g, '\\|')} |`),
    '',
    '| Precondition | Status | Detail |',
    '| --- | --- | --- |',
    ...report.preconditions.map(
      (p) => `| ${p.name} | ${p.status} | ${p.detail.replace(/\|/g, '\\|')} |`,
    ),
    '',
  ].join('\n');
}

/** Stores the report in the DR region's bucket and sends one SNS summary. */
export function publishFailoverReport(
  sink: ReportSink,
  report: FailoverReport,
): Promise<{ json: string; markdown: string }> {
  return publishReport(
    sink,
    `failovers/${report.policy}/${report.failoverId}/report`,
    report,
    failoverReportMarkdown(report),
    `Lifeboat failover of ${report.target}: ${report.succeeded ? 'succeeded' : 'FAILED'}`,
  );
}

/** What the Report task hands back to the state machine: the verdict and where the report is. */
export interface FailoverSummary {
  readonly succeeded: boolean;
  readonly failure: string | null;
  readonly rtoSeconds: number | null;
  readonly json: string;
  readonly markdown: string;
}

/** The Report task: builds the report from the failover's state, stores it, sends the summary. */
export async function reportFailover(
  sink: ReportSink,
  event: unknown,
  finishedAt: Date,
): Promise<{ report: FailoverReport; summary: FailoverSummary }> {
  const report = failoverReport(event, finishedAt);
  const location = await publishFailoverReport(sink, report);
  const { succeeded, failure, rtoSeconds } = report;
  return { report, summary: { succeeded, failure, rtoSeconds, ...location } };
}
