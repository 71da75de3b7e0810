import type { JobEnvironment } from '../../shared/jobs/job-definition.js';
import type { RunRecorder } from '../../shared/manifest/run-recorder.js';
import type { Policy } from '../../shared/policy/schema.js';
import type { Vault } from '../../shared/vault/vault.js';
import type { Io } from '../../terminal/output.js';
import type { Progress } from '../../terminal/progress.js';

/** What every demo section works with: the seeded account, its vault, and where to print. */
export interface DemoContext {
  readonly policy: Policy;
  readonly account: string;
  readonly vault: Vault;
  readonly recorder: RunRecorder;
  /** Where the demo runs the scheduled jobs: through their own definitions, as Lambda does. */
  readonly env: JobEnvironment;
  /** Where the demo says how far it got, on standard error. */
  readonly progress: Progress;
  /** Moves the local AWS's clock on: the state machines' Wait states take their time on it. */
  readonly clock: (seconds: number) => Promise<unknown>;
  readonly io: Io;
}
