#!/usr/bin/env node
// The lifeboat command: the CLI built to plain JavaScript in dist/ (npm ci builds it; so does
// npm run build), sharing every line of domain code with the Lambda functions.
import { existsSync } from 'node:fs';

// The SDK versions are pinned; its notice about future releases needing Node 22 is not for users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'lifeboat: the command is not built yet: run npm run build (npm ci does it)\n',
  );
  process.exit(3);
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv.slice(2));
