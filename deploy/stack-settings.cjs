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

// A bad policy, or a region the policy does not name, is the user's to fix: say what is wrong,
// without a stack trace (serverless prints an error's stack when it has one).
module.exports = async ({ options }) => {
  try {
    return stackSettings(options, definitions());
  } catch (error) {
    if (error && (error.name === 'PolicyError' || error.name === 'StackSettingsError')) {
      const plain = new Error(error.message);
      plain.stack = `\n${error.message}`;
      throw plain;
    }
    throw error;
  }
};
