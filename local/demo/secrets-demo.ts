import { KMSClient } from '@aws-sdk/client-kms';
import { AddTagsToResourceCommand, DeleteDBSnapshotCommand } from '@aws-sdk/client-rds';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { definition as exportSecretsJob } from '../../functions/export-secrets.js';
import { verificationDeps } from '../../functions/verify-manifest.js';
import { clientIn, rdsIn } from '../../shared/aws/clients.js';
import { manifestKey } from '../../shared/naming/run-ids.js';
import type { Slot } from '../../shared/naming/slot.js';
import { TAG } from '../../shared/naming/tags.js';
import { listManualSnapshots } from '../../shared/rds/snapshots.js';
import { readAttributedInventory } from '../../shared/retention/retention-job.js';
import { planRetention } from '../../shared/retention/retention-planner.js';
import type { ExportJobResult } from '../../shared/secrets/export-job.js';
import { prepareRestore } from '../../shared/secrets/restore.js';
import { type Site, vaultAt } from '../../shared/vault/vault.js';
import { deepExportCheck } from '../../shared/verification/deep-export-check.js';
import { runVerificationJob } from '../../shared/verification/verification-job.js';
import { line, table } from '../../terminal/output.js';
import { printVerification } from '../../terminal/verification.js';
import { scheduledSlots } from './backup-demo.js';
import type { DemoContext } from './demo-context.js';
import { seedSecret } from './seed.js';

/** Secrets of the demo account: three the policy selects (prod/), one it does not. */
export async function seedDemoSecrets(ctx: DemoContext): Promise<void> {
  const region = ctx.policy.regions.primary;
  await seedSecret(
    region,
    'prod/orders/db-password',
    JSON.stringify({ username: 'orders', password: 'demo-Orders-pw-51b7' }),
  );
  await seedSecret(region, 'prod/billing/api-key', 'demo-billing-key-9c2e');
  await seedSecret(region, 'prod/reports/tls-key', Buffer.from('demo-binary-tls-key-04d1'));
  await seedSecret(region, 'dev/scratch/token', 'demo-dev-token-x');
  line(
    ctx.io.out,
    `  ${region}: secrets prod/orders/db-password, prod/billing/api-key, prod/reports/tls-key (binary), dev/scratch/token`,
  );
}

/**
 * Exports the secrets, verifies every recent run (downloading nothing), verifies the export deeply
 * with the DR key, plans and applies a restore into the DR region, then tampers with an export
 * and a DR copy and shows both caught.
 */
export async function secretsAndVerificationDemo(ctx: DemoContext, now: Date): Promise<void> {
  const { policy, io } = ctx;
  // The export's latest scheduled slot, as its schedule fired it.
  const slot = scheduledSlots(
    policy,
    policy.secrets?.schedule ?? 'rate(1 day)',
    new Date(now.getTime() - 2 * 86_400_000),
    now,
  ).at(-1) as Slot;
  const first = await exportSecrets(ctx, slot);
  line(
    io.out,
    `export-secrets, run ${first.runId}: ${first.exported} secrets in one encrypted message`,
  );
  if (first.export) {
    line(
      io.out,
      `  s3://${first.export.bucket}/${first.export.key}: ${first.export.size} bytes, SHA-256 ${first.export.sha256.slice(0, 16)}...`,
    );
    line(
      io.out,
      `  one data key, usable in ${policy.regions.primary} and ${policy.regions.dr}; context ${JSON.stringify(first.export.encryptionContext)}`,
    );
  }
  const again = await exportSecrets(ctx, slot);
  line(io.out, `The same scheduled event delivered again: ${again.outcome}, nothing new written.`);
  line(io.out);

  line(
    io.out,
    `3. Verification of the last ${policy.verification.lookback} of runs: MACs, checksums S3 stored, snapshot and copy states`,
  );
  const verified = await verify(ctx, 'primary');
  printVerification(io, verified, policy);
  line(io.out);
  const deep = await verify(ctx, 'dr', [first.runId], true);
  line(
    io.out,
    `Deep verification of ${first.runId} in ${policy.regions.dr}: ${deep.runs[0]?.status}`,
  );
  for (const c of deep.runs[0]?.checks.filter((k) => k.kind === 'secrets') ?? [])
    line(io.out, `  ${c.reason}`);
  line(io.out);

  line(io.out, `4. Restore of ${first.runId} into ${policy.regions.dr} (values are never shown)`);
  const plan = await restore(ctx, first.runId);
  line(
    io.out,
    table(
      ['SECRET', 'PLAN'],
      plan.items.map((i) => [i.name, i.action]),
    ),
  );
  const applied = await plan.apply();
  line(io.out, `--apply: ${applied.filter((o) => o.result === 'done').length} written`);
  const replan = await restore(ctx, first.runId);
  line(io.out, `Planned again: ${replan.items.map((i) => `${i.name} ${i.action}`).join(', ')}`);
  line(io.out);

  line(io.out, '5. Tampering, as someone with write access to the bucket and the snapshots might');
  const exportKey = first.export?.key ?? '';
  await flipOneByte(ctx, exportKey);
  const copy = await deleteNewestCopy(ctx);
  const replayed = await replayPreviousRecord(ctx, copy.runId);
  const deletingBefore = await plannedDeletions(ctx);
  const relabelled = await relabel(ctx, copy.runId);
  line(io.out, `  flipped one byte of s3://${ctx.vault.bucket}/${exportKey}`);
  line(io.out, `  deleted the DR copy ${copy.arn} behind Lifeboat's back`);
  line(io.out, `  copied the signed record of ${replayed.from} over ${replayed.over}'s`);
  line(io.out, `  rewrote the lifeboat:slot tag of ${relabelled} to make it look a year old`);
  const caught = await verify(ctx, 'primary', [first.runId, copy.runId]);
  printVerification(io, caught, policy);
  const deletingAfter = await plannedDeletions(ctx);
  const same =
    deletingAfter.length === deletingBefore.length &&
    deletingAfter.every((arn) => deletingBefore.includes(arn));
  line(
    io.out,
    same
      ? `Retention decides from the signed records, not the tags: it would delete the same ${deletingAfter.length} snapshot(s) before and after the tag was rewritten.`
      : `Retention would delete ${deletingBefore.length} snapshot(s) before the tag was rewritten and ${deletingAfter.length} after (unexpected)`,
  );
  try {
    await restore(ctx, first.runId, 'primary');
    line(io.out, 'Restore from the tampered export: not refused (unexpected)');
  } catch (error) {
    line(io.out, `Restore from the tampered export is refused: ${(error as Error).message}`);
  }
}

function exportSecrets(ctx: DemoContext, slot: Slot): Promise<ExportJobResult> {
  return exportSecretsJob.run(exportSecretsJob.wire(ctx.env), ctx.policy, slot.time);
}

export function verify(ctx: DemoContext, site: Site, runIds?: string[], deep = false) {
  return runVerificationJob(
    verificationDeps(ctx.env, { site, deep: deep ? deepExportCheck : undefined }),
    ctx.policy,
    new Date(),
    runIds ? { runIds } : {},
  );
}

/**
 * Plans a restore of a run's secrets into a site's region, from that site's copy of the vault
 * with that region's keys (the DR region reads nothing in the primary region).
 */
export function restore(ctx: DemoContext, runId: string, site: Site = 'dr') {
  const { policy, vault } = ctx;
  const region = policy.regions[site];
  return prepareRestore(
    {
      sm: clientIn(SecretsManagerClient, region),
      site,
      from: {
        production: {
          s3: clientIn(S3Client, region),
          kms: clientIn(KMSClient, region),
          vault: vaultAt(vault, site),
        },
      },
    },
    policy,
    runId,
  );
}

/** What retention would delete now, by ARN. */
async function plannedDeletions(ctx: DemoContext): Promise<string[]> {
  const { snapshots } = await readAttributedInventory(
    {
      primary: rdsIn(ctx.policy.regions.primary),
      dr: rdsIn(ctx.policy.regions.dr),
      recorder: ctx.recorder,
    },
    ctx.policy,
  );
  return planRetention(snapshots, ctx.policy, new Date())
    .decisions.filter((d) => d.action === 'delete')
    .map((d) => d.snapshot.arn);
}

/** Overwrites a run's signed record with the one of the run before it. */
async function replayPreviousRecord(
  ctx: DemoContext,
  runId: string,
): Promise<{ from: string; over: string }> {
  const runs = await ctx.recorder.runs(ctx.policy.name, 'snapshot-rds');
  const from = runs[runs.indexOf(runId) - 1] ?? runId;
  const s3 = clientIn(S3Client, ctx.policy.regions.primary);
  const out = await s3.send(
    new GetObjectCommand({ Bucket: ctx.vault.bucket, Key: manifestKey(ctx.policy.name, from) }),
  );
  await s3.send(
    new PutObjectCommand({
      Bucket: ctx.vault.bucket,
      Key: manifestKey(ctx.policy.name, runId),
      Body: await out.Body?.transformToByteArray(),
    }),
  );
  return { from, over: runId };
}

/** Rewrites the slot label of the primary snapshot of orders-db a run took. */
async function relabel(ctx: DemoContext, runId: string): Promise<string> {
  const slotId = runId.slice(runId.indexOf('-') + 1);
  const id = `lifeboat-orders-db-${slotId}`;
  const rds = rdsIn(ctx.policy.regions.primary);
  const snapshot = (await listManualSnapshots(rds)).find((s) => s.id === id);
  await rds.client.send(
    new AddTagsToResourceCommand({
      ResourceName: snapshot?.arn,
      Tags: [{ Key: TAG.slot, Value: `${Number(slotId.slice(0, 4)) - 1}${slotId.slice(4)}` }],
    }),
  );
  return id;
}

/** What an attacker with write access could do: rewrite the export with one bit changed. */
async function flipOneByte(ctx: DemoContext, key: string): Promise<void> {
  const s3 = clientIn(S3Client, ctx.policy.regions.primary);
  const out = await s3.send(new GetObjectCommand({ Bucket: ctx.vault.bucket, Key: key }));
  const bytes = Buffer.from((await out.Body?.transformToByteArray()) ?? []);
  const at = Math.floor(bytes.length / 2);
  bytes.writeUInt8((bytes.readUInt8(at) ^ 1) & 0xff, at);
  await s3.send(new PutObjectCommand({ Bucket: ctx.vault.bucket, Key: key, Body: bytes }));
}

/** Deletes the newest DR copy a snapshot run recorded, as someone in the console might. */
async function deleteNewestCopy(ctx: DemoContext): Promise<{ arn: string; runId: string }> {
  const runs = await ctx.recorder.readRuns(ctx.policy.name, 'snapshot-rds', () => true);
  for (const { runId, artifacts } of runs.reverse()) {
    const copy = artifacts.drCopies.find((c) => c.kind === 'instance');
    if (!copy) continue;
    await rdsIn(ctx.policy.regions.dr).client.send(
      new DeleteDBSnapshotCommand({ DBSnapshotIdentifier: copy.arn.split(':').pop() }),
    );
    return { arn: copy.arn, runId };
  }
  return { arn: 'none', runId: runs[0]?.runId ?? '' };
}
