import { benchBundles } from './bundles.js';
import { benchCliStart } from './cli-start.js';
import { benchMonthlyCost } from './monthly-cost.js';
import { benchPipeline } from './pipeline.js';
import { benchPosture } from './posture.js';
import { benchRetentionPlanning } from './retention-planning.js';
import { benchSecretsAndVerification } from './secrets-and-verification.js';
import { benchStateMachines } from './state-machines.js';
import { benchVaultCopies } from './vault-copies.js';

// Prints figures; asserts nothing about time.
// The SDK versions are pinned; its notice about future releases needing Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const sections = [
  benchCliStart,
  benchRetentionPlanning,
  benchBundles,
  benchSecretsAndVerification,
  benchStateMachines,
  benchMonthlyCost,
  benchPosture,
  benchVaultCopies,
  benchPipeline,
];
for (const section of sections) {
  for (const line of await section()) console.log(line);
  console.log();
}
