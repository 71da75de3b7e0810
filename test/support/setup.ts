import 'aws-sdk-client-mock-vitest/extend';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

// Every temporary file or directory a test file makes (its own, and those of the servers and
// commands it starts) goes under one directory of its own, removed when the file's tests end.
const previous = process.env.TMPDIR;
const root = mkdtempSync(join(tmpdir(), 'lifeboat-test-'));
// Servers that run as another user (PostgreSQL as nobody, when the tests run as root) must reach
// their own directories in it.
chmodSync(root, 0o755);
process.env.TMPDIR = root;

afterAll(() => {
  if (previous === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = previous;
  rmSync(root, { recursive: true, force: true });
});
