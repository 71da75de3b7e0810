// Builds the lifeboat command as plain JavaScript in dist/: every TypeScript module of the CLI,
// the local harness and the domain, transpiled one to one (no bundling: the function registry
// and the state-machine definitions are found by path), and the files they read beside them.
// `npm ci` runs it (prepare); bin/lifeboat.js runs dist/cli/main.js.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'dist');
const SOURCES = ['cli', 'local', 'shared', 'functions', 'state-machines', 'terminal'];
const ASSETS = /\.(asl\.yml|policy\.yml|py)$/;

function files(dir, wanted) {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return files(path, wanted);
    return wanted(entry.name) ? [path] : [];
  });
}

rmSync(OUT, { recursive: true, force: true });
const entryPoints = SOURCES.flatMap((d) =>
  files(d, (name) => name.endsWith('.ts') && !name.endsWith('.d.ts')),
);
await build({
  absWorkingDir: ROOT,
  entryPoints,
  outdir: OUT,
  outbase: '.',
  bundle: false,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: false,
  logLevel: 'warning',
});
for (const asset of SOURCES.flatMap((d) => files(d, (name) => ASSETS.test(name)))) {
  mkdirSync(dirname(join(OUT, asset)), { recursive: true });
  copyFileSync(join(ROOT, asset), join(OUT, asset));
}
