import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { ModifyDBInstanceCommand } from '@aws-sdk/client-rds';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { definition as postureReport } from '../../functions/posture-report.js';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import {
  METRIC_NAMESPACE,
  RECOVERY_POINT_AGE_METRIC,
} from '../../shared/observability/metric-names.js';
import { missedReasons, missesObjective, readPosture } from '../../shared/posture/posture.js';
import { line } from '../../terminal/output.js';
import { printPosture } from '../../terminal/posture.js';
import type { RecoveryDemoContext } from './recovery-demo.js';
import { seedInstance } from './seed.js';

/**
 * Objectives met and missed: a database tagged for backup today (ledger-db, automated backups
 * off) has no restore point yet, so its tier's objectives are missed; orders-db, tier critical,
 * meets its 15 minutes from its continuous backups. The posture job publishes the posture and
 * its page, which the demo writes to a local file.
 */
export async function objectivesDemo(ctx: RecoveryDemoContext, now: Date): Promise<void> {
  const { policy, io } = ctx;
  const region = policy.regions.primary;
  const rds = rdsIn(region).client;
  await seedInstance(rds, 'ledger-db', { backup: 'lifeboat' });
  await rds.send(
    new ModifyDBInstanceCommand({
      DBInstanceIdentifier: 'ledger-db',
      BackupRetentionPeriod: 0,
      ApplyImmediately: true,
    }),
  );
  const tiers = Object.entries(policy.objectives?.tiers ?? {})
    .map(([name, t]) => `${name} (RPO ${t.rpo}, RTO ${t.rto})`)
    .join(', ');
  line(io.out, `Tiers: ${tiers}; the default is ${policy.objectives?.default}`);
  line(
    io.out,
    'ledger-db was tagged backup=lifeboat today, with automated backups off: no restore point yet.',
  );
  line(io.out);

  const deps = postureReport.wire(ctx.env);
  // Each hourly run publishes every database's restore-point age; CloudWatch keeps them for
  // the page's history. Here, this run's, sent as the function's metrics would arrive.
  const posture = await readPosture(deps, policy, now);
  const ages = posture.databases.flatMap((d) =>
    [d.primary, d.dr].flatMap((r) =>
      r.rpoSeconds === null ? [] : [{ target: d.identifier, region: r.region, age: r.rpoSeconds }],
    ),
  );
  for (let i = 0; i < ages.length; i += 20) {
    await clientIn(CloudWatchClient, region).send(
      new PutMetricDataCommand({
        Namespace: METRIC_NAMESPACE,
        MetricData: ages.slice(i, i + 20).map((a) => ({
          MetricName: RECOVERY_POINT_AGE_METRIC,
          Dimensions: [
            { Name: 'service', Value: 'posture-report' },
            { Name: 'Target', Value: a.target },
            { Name: 'Region', Value: a.region },
          ],
          Timestamp: now,
          Value: a.age,
          Unit: 'Seconds',
        })),
      }),
    );
  }
  const result = await postureReport.run(deps, policy, now);
  for (const change of result.changes) {
    line(io.out, `continuous backups, enforced: ${change.database}: ${change.detail}`);
  }
  printPosture(io, result.posture);
  line(io.out);
  for (const [name] of Object.entries(policy.objectives?.tiers ?? {})) {
    const members = result.posture.databases.filter((d) => d.objectives?.tier === name);
    const missed = members.filter(missesObjective);
    line(
      io.out,
      `Tier ${name}: ${missed.length === 0 ? `met by ${members.map((d) => d.identifier).join(', ')}` : `MISSED by ${missed.map((d) => `${d.identifier} (${missedReasons(d).join('; ')})`).join(', ')}`}`,
    );
  }
  const page = await clientIn(S3Client, region).send(
    new GetObjectCommand({ Bucket: ctx.vault.bucket, Key: result.keys.html }),
  );
  const dir = join(tmpdir(), 'lifeboat-demo');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'posture.html');
  writeFileSync(file, (await page.Body?.transformToString()) ?? '');
  line(
    io.out,
    `posture-report published s3://${ctx.vault.bucket}/${result.keys.json} and ${result.keys.html}; ObjectivesMissed ${result.missed.length}`,
  );
  line(io.out, `Posture report (open it in a browser): ${file}`);
}
