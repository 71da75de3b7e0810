#!/usr/bin/env node
// The lifeboat command. The CLI is TypeScript, run through tsx so that it shares every line of
// domain code with the Lambda functions.
import { register } from 'tsx/esm/api';

// The SDK versions are pinned; its notice about future releases needing Node 22 is not for users.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
const { runCli } = await import('../cli/main.ts');
process.exitCode = await runCli(process.argv.slice(2));
