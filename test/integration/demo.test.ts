import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('npm run demo', () => {
  it('runs the pipeline, a drill and a failover against its own local AWS and PostgreSQL', {
    timeout: 600_000,
  }, () => {
    // Act: the README's command, shortened to ten days
    const result = spawnSync('node', ['bin/lifeboat.js', 'demo', '--days', '10'], {
      encoding: 'utf8',
      env: { ...process.env, AWS_ENDPOINT_URL: '' },
      timeout: 600_000,
    });

    // Assess
    // Standard error holds progress only: not on a terminal, one timestamped line per change.
    const progress = result.stderr.split('\n').filter(Boolean);
    expect(progress.length).toBeGreaterThan(8);
    expect(progress.filter((l) => !/^\d\d:\d\d:\d\d \S/.test(l))).toEqual([]);
    expect(progress).toContain(
      progress.find((l) =>
        /^\d\d:\d\d:\d\d 6\. restore drill of orders-db: SmokeChecks \(\d+\.\ds\)$/.test(l),
      ),
    );
    expect(result.status).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/Lifeboat demo against a local AWS \(moto on http:\/\/127\.0\.0\.1:\d+\)/);
    const runs = out.split('\n').filter((l) => /^\d{4}-\d\d-\d\d 03:00 {2}4 {8}4 /.test(l));
    expect(runs).toHaveLength(10);
    expect(out).toContain('before-upgrade');
    expect(out).toContain('not created by Lifeboat');
    const held = /Day 5: (\S+) was put under legal hold/.exec(out)?.[1] ?? 'missing';
    const heldRow = out.split('\n').find((l) => l.startsWith('eu-central-1') && l.includes(held));
    expect(heldRow).toContain('KEEP');
    expect(out).toMatch(/Deleted over the 10 days: \d+ snapshots/);
    expect(out).toMatch(/export-secrets, run secrets-\d{12}: 3 secrets in one encrypted message/);
    expect(out).toContain(
      'The same scheduled event delivered again: already-exists, nothing new written.',
    );
    expect(out).toMatch(/Verification of \d+ run\(s\) of policy demo[\s\S]*; 0 failure\(s\)/);
    expect(out).toMatch(/Deep verification of secrets-\d{12} in eu-west-1: passed/);
    expect(out).toContain('--apply: 3 written');
    expect(out).toContain('prod/billing/api-key unchanged');
    expect(out).toContain('changed: the object has no SHA-256 checksum, so it was rewritten');
    expect(out).toContain('deleted: the DR copy no longer exists');
    expect(out).toContain(
      'overwritten: 1 later version replace the one first written (the first is what is checked)',
    );
    expect(out).toMatch(
      /labels changed behind Lifeboat's back: lifeboat:slot is \d{12}, was \d{12}/,
    );
    expect(out).toMatch(
      /Retention decides from the signed records, not the tags: it would delete the same \d+ snapshot\(s\) before and after the tag was rewritten\./,
    );
    expect(out).toMatch(
      /Restore from the tampered export is refused: changed: downloaded bytes hash to [0-9a-f]+\.\.\., not the manifest's/,
    );
    // Lifeboat's words only: no error class names.
    expect(out).not.toMatch(/\b[A-Z][A-Za-z]+(Error|Exception)\b/);
    // Deletions, with their reasons from the signed records.
    expect(out).toMatch(/Deleted over the 10 days: \d+ snapshots, each recorded with its reason/);
    expect(out).toMatch(/^ {2}\d+ x no rule keeps it \(daily 3, monthly 2\)$/m);
    expect(out).not.toMatch(/demo-(Orders-pw|billing-key|binary-tls-key)/);

    // The drill restores the snapshot, finds its data, and misses exactly what came after it:
    // hours of orders, more than tier critical's 15 minutes.
    expect(out).toMatch(
      /restore-drill \(state-machines\/restore-drill\.asl\.yml, waits on the local AWS's clock\): FAILED in 12 state transitions\n.* > Outcome > ObjectiveMissed/,
    );
    expect(out).toMatch(
      /Outcome: OBJECTIVE MISSED against tier critical \(RTO 1h 0m 0s: met; RPO 15m 0s: missed\)/,
    );
    const after = Number(/(\d+) orders were written after it/.exec(out)?.[1]);
    const missing = Number(/production has (\d+) more/.exec(out)?.[1]);
    expect(after).toBeGreaterThan(0);
    expect(missing).toBe(after);
    expect(out).toMatch(/RPO \d+h \d+m \d+s \(drill start minus the newest restored order\)/);
    expect(out).toMatch(/teardown: deleted lb-drill-orders-db-\d{12}/);
    // The point-in-time drill restores continuous backups: minutes of orders lost, not hours.
    const pointInTime = out.slice(out.indexOf('7. Point-in-time drill of orders-db'));
    expect(pointInTime).toMatch(/RestoreKind > RestoreInstanceToPointInTime > .* > DrillSucceeded/);
    expect(pointInTime).toMatch(
      /Outcome: succeeded against tier critical \(RTO 1h 0m 0s: met; RPO 15m 0s: met\)/,
    );
    const rpo =
      /RPO (?:(\d+)m )?(\d+)s \(drill start minus the newest restored order\): minutes/.exec(
        pointInTime,
      );
    expect(rpo).not.toBeNull();
    expect(Number(rpo?.[1] ?? 0)).toBeLessThan(15);
    // The MySQL drill: its checks on MariaDB over TLS that proves the server, RTO and RPO.
    expect(out).toMatch(
      /8\. Restore drill of shop-db, a MySQL database, over TLS that proves the server \(verify-full\)/,
    );
    expect(out).toMatch(/carts exist\s+at least 100\s+288\s+pass/);
    expect(out).toMatch(/checkout enabled\s+true\s+1\s+pass/);
    // Minutes just after the day's slot, hours later in the day: the demo runs at the real time.
    expect(out).toMatch(
      /RPO (?:\d+h )?(?:\d+m )?\d+s \(drill start minus the newest restored cart\)/,
    );
    expect(out).toMatch(/teardown: deleted lb-drill-shop-db-\d{12}/);
    // The planned failover switches the record to the replica, then resumes as a no-op.
    expect(out).toMatch(
      /regional-failover \(state-machines\/regional-failover\.asl\.yml, waits on the local AWS's clock\): SUCCEEDED in 15 state transitions/,
    );
    expect(out).toMatch(
      /orders-db\.db\.demo\.internal -> orders-db-dr\.\S+\.eu-west-1\.rds\.amazonaws\.com after/,
    );
    expect(out).toContain(
      'Preflight > PromotionNeeded > DnsNeeded > VerifyHealth > Report > Outcome > FailoverSucceeded',
    );
    // Objectives: one tier met, one missed, each named; the report's page is a local file.
    expect(out).toContain('continuous backups, enforced: orders-db: automated backups kept 7 days');
    expect(out).toContain('Tier critical: met by orders-db');
    expect(out).toContain(
      'Tier standard: MISSED by ledger-db (no restore point at all; no restore point in eu-west-1 at all; no verified restore point)',
    );
    // Every reason printed says something.
    expect(out).not.toMatch(/\(\s*\)/);
    expect(out).toContain('Unprotected (no target covers them): instance scratch-db');
    // The primary region lost: the runs verified and a lost secret restored from the DR region.
    const lost = out.slice(out.indexOf('11. The primary region eu-central-1 is lost'));
    expect(lost).toContain(
      'read from s3://lb-demo-123456789012-eu-west-1 (the DR region’s copy of the vault); eu-central-1 not consulted',
    );
    expect(lost).toMatch(/secrets-\d{12}\s+PASSED/);
    expect(lost).toMatch(/prod\/orders\/db-password\s+create/);
    expect(lost).toContain('--apply: 1 written');
    expect(lost).toMatch(
      /Calls to eu-central-1 while verifying and restoring: none; to eu-west-1: \d+/,
    );
    // The vault account: the month's copies, verified and kept by the vault, and one drilled.
    const vault = out.slice(out.indexOf('12. The isolated vault account 444455556666'));
    expect(vault).toMatch(/The vault account holds \d+ copies under its own key/);
    expect(vault).toMatch(/instance orders-db\s+10\s+\d{12}\s+none/);
    expect(vault).toContain('  outcome: passed');
    expect(vault).toMatch(
      /The vault bucket lifeboat-vault-demo-vault-444455556666-eu-west-1 holds, below sources\/123456789012\/: .*\d+ manifests.*\d+ verifications; each locked in COMPLIANCE mode/,
    );
    expect(vault).toMatch(
      /prod\/reports\/tls-key is deleted in eu-central-1; restored from the vault's copy of secrets-\d{12}/,
    );
    expect(vault).toMatch(/prod\/reports\/tls-key\s+create\s+done/);
    expect(vault).toContain(
      'Plan > RestoreKind > RestoreInstance > WaitForRestore > PollRestore > RestoreState > SmokeChecks > Teardown',
    );
    expect(vault).toMatch(
      /The vault's copy restores: the data proven .*; the share has ended; teardown done/,
    );
    const page = /Posture report \(open it in a browser\): (\S+\.html)/.exec(out)?.[1] ?? '';
    expect(readFileSync(page, 'utf8')).toContain(
      '<figure data-target="orders-db" data-chart="drills"',
    );
  });
});
