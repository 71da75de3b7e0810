import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BuildOptions, build, type Metafile } from 'esbuild';
import { parse } from 'yaml';
import { functionModules } from '../functions/registry.js';
import { loadPolicyFile } from '../shared/policy/policy-file.js';
import { median, verdict } from './measure.js';

const ROOT = resolve(import.meta.dirname, '..');
const LOAD_RUNS = 15;

interface ServerlessConfig {
  custom: { esbuild: Record<string, unknown> };
}

// serverless.yml's CloudFormation tags only need to parse; their values do not matter here.
const CFN_TAGS = ['!Ref', '!GetAtt', '!Sub'].map((tag) => ({
  tag,
  resolve: (value: string) => ({ [tag]: value }),
}));

/** The esbuild options serverless-esbuild applies, read from serverless.yml itself. */
function serverlessConfig(): ServerlessConfig {
  return parse(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'), {
    customTags: CFN_TAGS,
  }) as ServerlessConfig;
}

function esbuildOptions(config: ServerlessConfig): BuildOptions {
  // serverless-esbuild's own options, not esbuild's.
  const {
    exclude: _exclude,
    outputFileExtension: _ext,
    outputWorkFolder: _work,
    ...options
  } = config.custom.esbuild;
  return {
    ...(options as BuildOptions),
    platform: 'node',
    write: true,
    metafile: true,
    logLevel: 'silent',
  };
}

async function bundle(entry: string, outfile: string, options: BuildOptions): Promise<Metafile> {
  const result = await build({ ...options, entryPoints: [entry], outfile, absWorkingDir: ROOT });
  return result.metafile as Metafile;
}

/**
 * An entry holding only the SDK clients and commands the function's bundle holds, each client
 * constructed at load as the function's module does: the baseline a function is measured against.
 */
function bareEntry(metafile: Metafile, name: string): string {
  const used = new Map<string, Set<string>>();
  const output = Object.values(metafile.outputs)[0];
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const match =
      /node_modules\/@aws-sdk\/(client-[a-z0-9-]+)\/dist-es\/commands\/(\w+Command)\.js$/.exec(
        input,
      );
    if (!match || bytesInOutput === 0) continue;
    const [, client = '', command = ''] = match;
    if (!used.has(client)) used.set(client, new Set());
    used.get(client)?.add(command);
  }
  const lines: string[] = [];
  const clients: string[] = [];
  [...used].forEach(([pkg, commands], i) => {
    const clientClass = readFileSync(
      join(ROOT, 'node_modules/@aws-sdk', pkg, 'dist-types/index.d.ts'),
      'utf8',
    ).match(/export \* from "\.\/(\w+Client)";/)?.[1];
    lines.push(`import * as sdk${i} from '@aws-sdk/${pkg}';`);
    lines.push(
      `export const commands${i} = [${[...commands].map((c) => `sdk${i}.${c}`).join(', ')}];`,
    );
    clients.push(`new sdk${i}.${clientClass}({ region: 'eu-central-1' })`);
  });
  lines.push(`export const clients = [${clients.join(', ')}];`);
  // Inside the project, so that the SDK resolves from its node_modules.
  const dir = join(ROOT, '.lifeboat', 'bench');
  mkdirSync(dir, { recursive: true });
  const entry = join(dir, `${name}-bare-entry.mjs`);
  writeFileSync(entry, `${lines.join('\n')}\n`);
  return entry;
}

/** Import time of a module in a fresh Node process, median of several runs. */
function loadMs(file: string, env: NodeJS.ProcessEnv): number {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t));`;
  const times: number[] = [];
  for (let i = 0; i < LOAD_RUNS; i += 1) {
    times.push(
      Number(
        execFileSync(process.execPath, ['--input-type=module', '-e', script], {
          env,
          encoding: 'utf8',
        }),
      ),
    );
  }
  return median(times);
}

export async function benchBundles(): Promise<string[]> {
  const config = serverlessConfig();
  const options = esbuildOptions(config);
  const dir = mkdtempSync(join(tmpdir(), 'lifeboat-bench-'));
  const policyFile = join(dir, 'policy.json');
  writeFileSync(policyFile, JSON.stringify(loadPolicyFile(join(ROOT, 'lifeboat.policy.yml'))));
  const env = {
    PATH: process.env.PATH,
    AWS_REGION: 'eu-central-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    LIFEBOAT_POLICY_PATH: policyFile,
    ALERT_TOPIC_ARN: 'arn:aws:sns:eu-central-1:123456789012:bench',
    BACKUP_BUCKET: 'lb-bench-123456789012-eu-central-1',
    REPORT_BUCKET: 'lb-bench-123456789012-eu-central-1',
    DATA_KEY_ARN: 'arn:aws:kms:eu-central-1:123456789012:key/mrk-bench',
    DR_DATA_KEY_ARN: 'arn:aws:kms:eu-west-1:123456789012:key/mrk-bench',
    MANIFEST_KEY_ARN: 'arn:aws:kms:eu-central-1:123456789012:key/mrk-bench-mac',
    DR_MANIFEST_KEY_ARN: 'arn:aws:kms:eu-west-1:123456789012:key/mrk-bench-mac',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  };

  const lines = [
    `Function bundles (minified ESM, SDK clients bundled), import time median of ${LOAD_RUNS} fresh processes`,
    `  ${'function'.padEnd(18)} ${'bundle'.padStart(9)} ${'bare SDK'.padStart(9)} ${'load'.padStart(8)} ${'bare'.padStart(8)}  load / bare`,
  ];
  const notes: string[] = [];
  // The functions the stack deploys: one module each under functions/.
  for (const module of functionModules()) {
    const name = module;
    const entry = `functions/${module}.ts`;
    const out = join(dir, `${name}.mjs`);
    const meta = await bundle(entry, out, options);
    const bare = join(dir, `${name}-bare.mjs`);
    await bundle(bareEntry(meta, name), bare, options);
    const size = readFileSync(out).byteLength;
    const bareSize = readFileSync(bare).byteLength;
    const load = loadMs(out, env);
    const bareLoad = loadMs(bare, env);
    lines.push(
      `  ${name.padEnd(18)} ${kb(size).padStart(9)} ${kb(bareSize).padStart(9)} ${`${load.toFixed(1)} ms`.padStart(8)} ${`${bareLoad.toFixed(1)} ms`.padStart(8)}  ${(load / bareLoad).toFixed(2)}x`,
    );
    notes.push(
      `  ${name}: size ${verdict(size / 1024, 400, ' KB', 0)}; load ${verdict(load / bareLoad, 1.2, 'x', 2)}`,
    );
  }
  return [...lines, ...notes];
}

function kb(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KB`;
}
