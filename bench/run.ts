import { benchBundles } from './bundles.js';
import { benchRetentionPlanning } from './retention-planning.js';

// Prints figures; asserts nothing about time.
const sections = [benchRetentionPlanning, benchBundles];
for (const section of sections) {
  for (const line of await section()) console.log(line);
  console.log();
}
