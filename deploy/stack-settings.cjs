// Serverless resolves ${file(./deploy/stack-settings.cjs):...} through this file; the logic is in
// stack-settings.ts, loaded with tsx so that the policy is checked by the very same schema.
const { require: tsxRequire } = require('tsx/cjs/api');

const { stackSettings } = tsxRequire('./stack-settings.ts', __filename);

module.exports = async ({ options }) => stackSettings(options);
