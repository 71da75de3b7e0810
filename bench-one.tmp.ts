import { benchSecretsAndVerification } from './bench/secrets-and-verification.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const t = Date.now();
for (const l of await benchSecretsAndVerification()) console.log(l);
console.log('total', Date.now() - t, 'ms');
