import { readFileSync } from 'node:fs';
import { Command, CommanderError, Help, Option } from 'commander';
import { type Io, line, processIo } from '../terminal/output.js';
import { EXIT } from './cli-errors.js';
import { failureText } from './failure-text.js';

// Each command's module is loaded when the command runs: `lifeboat --help` and `lifeboat
// validate` load no AWS client.
const commands = {
  backup: () => import('./commands/backup.js'),
  demo: () => import('./commands/demo.js'),
  drill: () => import('./commands/drill.js'),
  failover: () => import('./commands/failover.js'),
  hold: () => import('./commands/hold.js'),
  retention: () => import('./commands/retention.js'),
  secrets: () => import('./commands/secrets.js'),
  status: () => import('./commands/status.js'),
  report: () => import('./commands/report.js'),
  validate: () => import('./commands/validate.js'),
  verify: () => import('./commands/verify.js'),
};

/** The version of this Lifeboat, from its package.json. */
function version(): string {
  const file = new URL('../../package.json', import.meta.url);
  const fallback = new URL('../package.json', import.meta.url);
  for (const candidate of [file, fallback]) {
    try {
      return (JSON.parse(readFileSync(candidate, 'utf8')) as { version: string }).version;
    } catch {
      // Not there: the CLI runs from dist/ or from its sources.
    }
  }
  return 'unknown';
}

const POLICY_HELP = 'policy file (default: $LIFEBOAT_POLICY or lifeboat.policy.yml)';
const STAGE_HELP = 'the stage the stack was deployed with (default: prod)';
const LOCAL_HELP =
  'run the same state machine definition in this process, against the AWS the environment points to';
const BUCKET_HELP = 'backup bucket (default: the stack’s, lb-<policy>-<account>-<primary region>)';

/**
 * Runs the lifeboat command with `argv` (without node and script) and returns the exit code:
 * 0 done, 1 something failed, 2 bad input (nothing changed), 3 could not run.
 */
export async function runCli(argv: readonly string[], io: Io = processIo): Promise<number> {
  let code: number = EXIT.ok;
  const run =
    <O>(command: () => Promise<(options: O, io: Io) => Promise<number>>) =>
    async (options: O) => {
      code = await guard(io, async () => (await command())(options, io));
    };

  const program = new Command('lifeboat')
    .description(
      'Backups and disaster recovery for RDS and Aurora: policy, snapshots, retention, drills',
    )
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.out.write(s),
      writeErr: (s) => io.err.write(s),
    })
    .showHelpAfterError('(run with --help for usage)')
    .version(version(), '-V, --version', 'print the version')
    // Options a command cannot run without say so in its help.
    .configureHelp({
      optionDescription: (option) =>
        option.mandatory
          ? `(required) ${new Help().optionDescription(option)}`
          : new Help().optionDescription(option),
    });

  program
    .command('validate')
    .description('check the policy file; every bad field is named with the reason')
    .option('-p, --policy <file>', POLICY_HELP)
    .option('--json', 'print the validated policy, or its problems, as JSON')
    .action(run(async () => (await commands.validate()).validateCommand));

  const backup = program.command('backup').description('snapshots of the policy’s databases');
  backup
    .command('run')
    .description(
      'run the scheduled snapshot job now (a snapshot of each database) in the account the AWS environment points to',
    )
    .option('-p, --policy <file>', POLICY_HELP)
    .option('--slot <time>', 'the schedule slot to run as, ISO 8601 (default: now)')
    .option('--bucket <name>', BUCKET_HELP)
    .option('--json', 'print the result as JSON')
    .option('-v, --verbose', 'log each snapshot and copy as it starts')
    .action(run(async () => (await commands.backup()).backupRunCommand));
  backup
    .command('advance')
    .description(
      'one pass of the pipeline now, as its sweep: DR copies, vault copies and the end of shares that are due (the deployed pipeline does this itself)',
    )
    .option('-p, --policy <file>', POLICY_HELP)
    .option('--bucket <name>', BUCKET_HELP)
    .option('--json', 'print the result as JSON')
    .option('-v, --verbose', 'log each copy as it starts')
    .action(run(async () => (await commands.backup()).backupAdvanceCommand));

  const retention = program
    .command('retention')
    .description('grandfather-father-son retention of snapshots');
  retention
    .command('plan')
    .description('show what retention would keep and delete, and why (changes nothing)')
    .option('-p, --policy <file>', POLICY_HELP)
    .option('--inventory <file>', 'plan on an inventory JSON file instead of the live account')
    .option('--now <time>', 'plan as of this time, ISO 8601 (default: now)')
    .option('--bucket <name>', BUCKET_HELP)
    .option('--json', 'print the plan as JSON')
    .action(run(async () => (await commands.retention()).retentionPlanCommand));
  retention
    .command('apply')
    .description('delete what the plan says to delete, at the policy’s RDS request rate')
    .option('-p, --policy <file>', POLICY_HELP)
    .option('--yes', 'confirm the deletions')
    .option('--bucket <name>', BUCKET_HELP)
    .option('--json', 'print the deletions as JSON')
    .action(run(async () => (await commands.retention()).retentionApplyCommand));

  const hold = program
    .command('hold')
    .description('legal holds: placed by a tag or here, lifted only here, each a signed record');
  for (const action of ['place', 'release'] as const) {
    hold
      .command(action)
      .description(
        action === 'place'
          ? 'put a snapshot under legal hold: retention keeps it until it is released here'
          : 'lift a legal hold: a signed release, and the hold tag removed',
      )
      .requiredOption('--snapshot <id>', 'the snapshot: its identifier or ARN')
      .requiredOption('--reason <text>', 'why; signed into the record')
      .option('-p, --policy <file>', POLICY_HELP)
      .option('--bucket <name>', BUCKET_HELP)
      .option('--json', 'print the record as JSON')
      .action(async (options: Record<string, string | boolean | undefined>) => {
        code = await guard(io, async () =>
          (await commands.hold()).holdCommand(action, options, io),
        );
      });
  }
  hold
    .command('list')
    .description('every hold and release, signed or by tag')
    .option('-p, --policy <file>', POLICY_HELP)
    .option('--bucket <name>', BUCKET_HELP)
    .option('--json', 'print the holds as JSON')
    .action(run(async () => (await commands.hold()).holdListCommand));

  program
    .command('status')
    .description(
      'every database against its recovery objectives now: restore points, their age, continuous backups, the last drill (exit 1 when one is missed)',
    )
    .option('-p, --policy <file>', POLICY_HELP)
    .option('--bucket <name>', BUCKET_HELP)
    .option('--json', 'print the posture as JSON')
    .action(run(async () => (await commands.status()).statusCommand));

  program
    .command('report')
    .description(
      'write the posture report: the status table and charts of drills and restore-point age over time, as one HTML file (exit 1 when an objective is missed)',
    )
    .option('-p, --policy <file>', POLICY_HELP)
    .option('--bucket <name>', BUCKET_HELP)
    .option(
      '-o, --out <file>',
      'the HTML file to write (default lifeboat-posture.html; its JSON beside it)',
    )
    .action(run(async () => (await commands.report()).reportCommand));

  program
    .command('verify')
    .description('verify runs against their signed manifests (downloads nothing unless --deep)')
    .option('-p, --policy <file>', POLICY_HELP)
    .option('--run <id...>', 'the runs to verify (default: every run within the policy’s lookback)')
    .option(
      '--deep',
      'also download each export, decrypt it and compare its secrets with the manifest',
    )
    .option(
      '--region <region>',
      'verify with this region’s keys: the primary (default) or the DR region',
    )
    .option('--bucket <name>', BUCKET_HELP)
    .option('--json', 'print the verification as JSON')
    .action(run(async () => (await commands.verify()).verifyCommand));

  const secrets = program
    .command('secrets')
    .description('encrypted exports of Secrets Manager secrets');
  secrets
    .command('export')
    .description('run the scheduled secrets export now')
    .option('-p, --policy <file>', POLICY_HELP)
    .option('--slot <time>', 'the schedule slot to run as, ISO 8601 (default: now)')
    .option('--bucket <name>', BUCKET_HELP)
    .option('--json', 'print the result as JSON')
    .action(run(async () => (await commands.secrets()).secretsExportCommand));
  secrets
    .command('restore')
    .description(
      'show what restoring a run’s export would do per secret (never a value); --apply does it',
    )
    .requiredOption('--run <id>', 'the export run, e.g. secrets-202611210200')
    .option('-p, --policy <file>', POLICY_HELP)
    .option(
      '--region <region>',
      'restore into this region (the primary, default, or the DR region)',
    )
    .option('--only <name...>', 'restore only these secrets')
    .option(
      '--vault-profile <profile>',
      "read the run from the isolated vault account's copy, with this AWS profile of the vault account (when production's keys or buckets are lost)",
    )
    .option(
      '--source-account <id>',
      'with --vault-profile: the production account whose copy to read (default: the account restored into)',
    )
    .option('--apply', 'write the secrets (CreateSecret / PutSecretValue)')
    .option('--bucket <name>', BUCKET_HELP)
    .option('--json', 'print the plan or the outcome as JSON')
    .action(run(async () => (await commands.secrets()).secretsRestoreCommand));

  const drill = program
    .command('drill')
    .description(
      'restore drills: restore a restore point, prove the data, measure RTO and RPO, tear down',
    );
  drill
    .command('start')
    .description(
      'start the deployed restore-drill state machine for one database (--local: run it here)',
    )
    .requiredOption('--target <database>', 'a database in the policy’s drills section')
    .option('-p, --policy <file>', POLICY_HELP)
    .option(
      '--pick <how>',
      'latest-verified, random or point-in-time (default: the policy’s drills.pick)',
    )
    .option('--snapshot <id>', 'drill this Lifeboat snapshot instead of picking one')
    .option('--stage <stage>', STAGE_HELP)
    .option('--wait', 'follow the execution until it finishes')
    .option('--local', LOCAL_HELP)
    .option('--alert-topic <arn>', 'with --local: the stack’s alert topic (AlertTopicArn output)')
    .option(
      '--report-bucket <name>',
      'with --local: where the report goes (default: the stack’s bucket in the drill region)',
    )
    .option(
      '--instant-waits',
      'with --local: skip the Wait states’ delays (for a local AWS, where restores are instant)',
    )
    .option('--json', 'print the execution as JSON')
    .action(run(async () => (await commands.drill()).drillStartCommand));
  drill
    .command('status')
    .description('show a drill execution: running, or its report and measured RTO/RPO')
    .argument('<execution-arn>', 'the execution ARN drill start printed')
    .option('--wait', 'follow the execution until it finishes')
    .option('--json', 'print the execution as JSON')
    .action(async (arn: string, options: { wait?: boolean; json?: boolean }) => {
      code = await guard(io, async () =>
        (await commands.drill()).drillStatusCommand(arn, options, io),
      );
    });

  const failover = program
    .command('failover')
    .description('regional failover: promote the DR database, switch DNS, verify health');
  failover
    .command('plan')
    .description('dry run: check every precondition and print each step (changes nothing)')
    .requiredOption('--target <database>', 'a database in the policy’s failover section')
    .option('-p, --policy <file>', POLICY_HELP)
    .option(
      '--planned',
      'a planned failover: the primary may be healthy (Aurora: switchover, no data loss)',
    )
    .option('--force', 'do not check replication lag')
    .option('--json', 'print the plan as JSON')
    .action(run(async () => (await commands.failover()).failoverPlanCommand));
  failover
    .command('start')
    .description(
      'start the deployed regional-failover state machine in the DR region (--local: run it here)',
    )
    .requiredOption('--target <database>', 'a database in the policy’s failover section')
    .option('--confirm <phrase>', 'the confirmation, exactly: failover <target> to <DR region>')
    .option('-p, --policy <file>', POLICY_HELP)
    .option(
      '--planned',
      'a planned failover: the primary may be healthy (Aurora: switchover, no data loss)',
    )
    .option('--force', 'do not check replication lag')
    .option('--stage <stage>', STAGE_HELP)
    .option('--wait', 'follow the execution until it finishes')
    .option('--local', LOCAL_HELP)
    .option(
      '--alert-topic <arn>',
      'with --local: the DR stack’s alert topic (AlertTopicArn output)',
    )
    .option(
      '--report-bucket <name>',
      'with --local: where the report goes (default: the stack’s bucket in the DR region)',
    )
    .option('--instant-waits', 'with --local: skip the Wait states’ delays (for a local AWS)')
    .option('--json', 'print the execution as JSON')
    .action(run(async () => (await commands.failover()).failoverStartCommand));
  failover
    .command('status')
    .description('show a failover execution: running, or its report and measured RTO')
    .argument('<execution-arn>', 'the execution ARN failover start printed')
    .option('--wait', 'follow the execution until it finishes')
    .option('--json', 'print the execution as JSON')
    .action(async (arn: string, options: { wait?: boolean; json?: boolean }) => {
      code = await guard(io, async () =>
        (await commands.failover()).failoverStatusCommand(arn, options, io),
      );
    });
  failover
    .command('rebuild-replica')
    .description(
      'start failback: a new read replica of the promoted DR instance in the old primary region',
    )
    .requiredOption('--target <database>', 'a database in the policy’s failover section')
    .option('-p, --policy <file>', POLICY_HELP)
    .option('--replica-id <id>', 'the new replica’s identifier (default: <target>-failback)')
    .option('--kms-key <key>', 'a KMS key in the primary region, for an encrypted replica')
    .option('--json', 'print the result as JSON')
    .action(run(async () => (await commands.failover()).rebuildReplicaCommand));

  program
    .command('demo')
    .description('start a local AWS (moto), seed a demo account and run Lifeboat against it')
    .addOption(new Option('--days <n>', 'days of daily runs to simulate').default('14'))
    .action(run(async () => (await commands.demo()).demoCommand));

  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help asked for, or the version: done. Help shown because a subcommand is missing, or
      // any other usage error: bad input.
      return error.exitCode === 0 ? EXIT.ok : EXIT.badInput;
    }
    throw error;
  }
  return code;
}

async function guard(io: Io, command: () => Promise<number>): Promise<number> {
  try {
    return await command();
  } catch (error) {
    const failure = failureText(error);
    line(io.err, `lifeboat: ${failure.message}`);
    return failure.code;
  }
}
