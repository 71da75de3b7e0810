import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type FunctionDefinition,
  moduleNameOf,
  type ScheduledJob,
  type StateMachineTask,
} from '../shared/jobs/job-definition.js';

// Every other file of this folder is one function: a state machine task or a scheduled job.
const HERE = dirname(fileURLToPath(import.meta.url));
const NOT_A_FUNCTION = new Set(['registry']);

/** The function modules of this folder, by module name (`drill-plan`). */
export function functionModules(): string[] {
  return readdirSync(HERE)
    .filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => f.replace(/\.(ts|js)$/, ''))
    .filter((m) => !NOT_A_FUNCTION.has(m))
    .sort();
}

/** A function's definition, by its name in the stack and the ASL (`drillPlan`). */
export async function loadFunction(name: string): Promise<FunctionDefinition> {
  const module = moduleNameOf(name);
  if (!functionModules().includes(module)) {
    throw new Error(`no function ${name}: there is no functions/${module}.ts`);
  }
  const loaded = (await import(/* @vite-ignore */ `./${module}.js`)) as {
    definition: FunctionDefinition;
  };
  return loaded.definition;
}

/** A state machine task's definition, by its name. */
export async function loadTask(name: string): Promise<StateMachineTask<unknown, unknown, object>> {
  const definition = await loadFunction(name);
  if (definition.kind !== 'task') throw new Error(`${name} is a scheduled job, not a task`);
  return definition as unknown as StateMachineTask<unknown, unknown, object>;
}

/** Every function's definition, tasks and scheduled jobs. */
export async function allFunctions(): Promise<FunctionDefinition[]> {
  const names = functionModules();
  const loaded = await Promise.all(
    names.map(
      async (m) =>
        ((await import(/* @vite-ignore */ `./${m}.js`)) as { definition: FunctionDefinition })
          .definition,
    ),
  );
  return loaded;
}

export type { ScheduledJob, StateMachineTask };
