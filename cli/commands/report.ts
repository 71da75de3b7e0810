import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { definition as postureReport } from '../../functions/posture-report.js';
import { loadPolicyFile, policyPath } from '../../shared/policy/policy-file.js';
import { missesObjective } from '../../shared/posture/posture.js';
import { readReportData } from '../../shared/posture/posture-job.js';
import { renderPostureReport } from '../../shared/posture/report-page.js';
import { type Io, line } from '../../terminal/output.js';
import { cliJobEnvironment } from '../account.js';
import { EXIT } from '../cli-errors.js';

/**
 * `lifeboat report`: the posture page the scheduled job publishes, written here to a file: the
 * status table and each database's drills and restore-point age over time, as one HTML file
 * with its charts drawn in (it opens offline), and its data as JSON beside it.
 */
export async function reportCommand(
  options: { policy?: string; bucket?: string; out?: string },
  io: Io,
): Promise<number> {
  const policy = loadPolicyFile(policyPath(options.policy));
  const env = await cliJobEnvironment(policy, options);
  const data = await readReportData(postureReport.wire(env), policy, env.now());
  const html = resolve(options.out ?? 'lifeboat-posture.html');
  const json = `${html.replace(/\.html?$/i, '')}.json`;
  writeFileSync(html, renderPostureReport(data));
  writeFileSync(json, `${JSON.stringify(data, null, 2)}\n`);
  const missed = data.posture.databases.filter(missesObjective);
  line(io.out, `Posture report: ${html}`);
  line(io.out, `  its data: ${json}`);
  line(
    io.out,
    `  ${data.posture.databases.length} databases, ${missed.length ? `${missed.length} missing an objective (${missed.map((d) => d.identifier).join(', ')})` : 'every objective met'}`,
  );
  return missed.length > 0 ? EXIT.failed : EXIT.ok;
}
