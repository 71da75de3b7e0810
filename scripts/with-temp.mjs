#!/usr/bin/env node
// Runs a command with a temporary directory of its own (TMPDIR), removed when it ends however it
// ends: packaging and the bench leave their work folders (bundles, function work, local servers)
// there, not in the system's temporary directory.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: with-temp.mjs <command> [args...]\n');
  process.exit(2);
}
const root = mkdtempSync(join(tmpdir(), 'lifeboat-work-'));
const remove = () => rmSync(root, { recursive: true, force: true });
const child = spawn(command, args, {
  stdio: 'inherit',
  shell: process.platform === 'win32',
  env: { ...process.env, TMPDIR: root, TMP: root, TEMP: root },
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => {
  remove();
  process.exit(code ?? (signal ? 1 : 0));
});
child.on('error', (error) => {
  remove();
  process.stderr.write(`${command}: ${error.message}\n`);
  process.exit(127);
});
