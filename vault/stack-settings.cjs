// vault/serverless.yml resolves ${file(./stack-settings.cjs)} through this file; the logic is in
// stack-settings.ts, loaded with tsx so that the vault policy is checked by its own schema.
const { require: tsxRequire } = require('tsx/cjs/api');

const { vaultStackSettings } = tsxRequire('./stack-settings.ts', __filename);

// A bad vault policy, or a region it does not name, is the user's to fix: say what is wrong,
// without a stack trace.
module.exports = async ({ options }) => {
  try {
    return vaultStackSettings(options);
  } catch (error) {
    if (error && (error.name === 'PolicyError' || error.name === 'VaultStackSettingsError')) {
      const plain = new Error(error.message);
      plain.stack = `\n${error.message}`;
      throw plain;
    }
    throw error;
  }
};
