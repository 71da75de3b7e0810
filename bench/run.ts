import { benchBundles } from './bundles.js';
import { benchRetentionPlanning } from './retention-planning.js';
import { benchSecretsAndVerification } from './secrets-and-verification.js';

// Prints figures; asserts nothing about time.
const sections = [benchRetentionPlanning, benchBundles, benchSecretsAndVerification];
for (const section of sections) {
  for (const line of await section()) console.log(line);
  console.log();
}
