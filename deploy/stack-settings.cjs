// Serverless resolves ${file(./deploy/stack-settings.cjs):...} through this file; the logic is in
// stack-settings.ts, loaded with tsx so that the policy is checked by the very same schema, and
// the functions are the modules under functions/, each exporting its definition.
const { readdirSync } = require('node:fs');
const { join } = require('node:path');
const { require: tsxRequire } = require('tsx/cjs/api');

const { stackSettings } = tsxRequire('./stack-settings.ts', __filename);

const FUNCTIONS = join(__dirname, '..', 'functions');

function definitions() {
  return readdirSync(FUNCTIONS)
    .filter((file) => file.endsWith('.ts') && file !== 'registry.ts')
    .map((file) => tsxRequire(join(FUNCTIONS, file), __filename).definition);
}

module.exports = async ({ options }) => stackSettings(options, definitions());
