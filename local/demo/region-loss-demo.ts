import { DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clientIn, forgetClients } from '../../shared/aws/clients.js';
import { line, table } from '../../terminal/output.js';
import { printVerification } from '../../terminal/verification.js';
import { startFaultProxy } from '../aws/fault-proxy.js';
import type { LocalAws } from '../aws/local-aws.js';
import type { DemoContext } from './demo-context.js';
import { restore, verify } from './secrets-demo.js';

/**
 * The primary region lost: every call to it is refused (a proxy in front of the local AWS resets
 * each connection signed for it), and the runs are verified and the secrets restored from the DR
 * region's copy of the vault, with its keys, asking nothing of the primary region.
 */
export async function regionLossDemo(ctx: DemoContext, aws: LocalAws): Promise<void> {
  const { policy, io } = ctx;
  const { primary, dr } = policy.regions;
  const proxy = await startFaultProxy(aws.endpoint);
  process.env.AWS_ENDPOINT_URL = proxy.endpoint;
  forgetClients();
  try {
    proxy.unreachable([primary]);
    // Production's secrets in the DR region are gone too: the restore must bring one back.
    const lost = 'prod/orders/db-password';
    await clientIn(SecretsManagerClient, dr).send(
      new DeleteSecretCommand({ SecretId: lost, ForceDeleteWithoutRecovery: true }),
    );
    line(
      io.out,
      `${primary} stops answering: every call to it is refused. ${lost} is gone from ${dr} too.`,
    );
    line(io.out);
    const verified = await verify(ctx, 'dr');
    printVerification(io, verified, policy);
    const runs = await verified.runs
      .map((r) => r.runId)
      .filter((id) => id.startsWith('secrets-'))
      .sort();
    const run = runs.at(-1);
    if (!run) {
      line(io.out, 'No export run to restore (unexpected)');
      return;
    }
    line(io.out);
    const plan = await restore(ctx, run, 'dr');
    line(io.out, `Restore of ${run} into ${dr}, from the DR region's copy of the vault:`);
    line(
      io.out,
      table(
        ['SECRET', 'PLAN'],
        plan.items.map((i) => [i.name, i.action]),
      ),
    );
    const applied = await plan.apply();
    line(io.out, `--apply: ${applied.filter((o) => o.result === 'done').length} written`);
    line(
      io.out,
      `Calls to ${primary} while verifying and restoring: ${proxy.counts.refused === 0 ? 'none' : `${proxy.counts.refused}, all refused`}; to ${dr}: ${proxy.counts.passed}`,
    );
  } finally {
    proxy.unreachable([]);
    process.env.AWS_ENDPOINT_URL = aws.endpoint;
    forgetClients();
    await proxy.stop();
  }
}
