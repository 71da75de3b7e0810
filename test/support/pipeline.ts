import type { LocalAws } from '../../local/aws/local-aws.js';
import { didSomething } from '../../local/aws/local-pipeline.js';
import type { Policy } from '../../shared/policy/schema.js';
import {
  type PassResult,
  type PipelineDeps,
  runPipelinePass,
} from '../../shared/snapshots/pipeline-pass.js';

/**
 * Sweeps of the pipeline, as its schedule runs them, at the local AWS's pace: after each sweep
 * the local clock moves on to the next thing RDS finishes, until a sweep finds nothing to do and
 * nothing is pending. The passes see `from` plus the clock's time since the call. For tests of
 * what the pipeline leaves behind, not of when (test/integration/pipeline.test.ts has those).
 */
export async function sweepUntilSettled(
  aws: LocalAws,
  deps: PipelineDeps,
  policy: Policy,
  from: Date,
): Promise<PassResult[]> {
  const started = Date.parse((await aws.clock.read()).now);
  const passes: PassResult[] = [];
  for (let i = 0; i < 100; i += 1) {
    const view = await aws.clock.read();
    const now = new Date(from.getTime() + (Date.parse(view.now) - started));
    const pass = await runPipelinePass(deps, policy, { events: [], sweep: true }, now);
    passes.push(pass);
    if (view.nextInSeconds === null && !didSomething(pass)) return passes;
    if (view.nextInSeconds !== null) await aws.clock.advanceToNext();
  }
  throw new Error('the pipeline did not settle in 100 sweeps');
}
