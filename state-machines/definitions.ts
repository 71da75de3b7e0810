import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { StateMachineName } from '../shared/naming/stack.js';

/** An Amazon States Language definition, as the files beside this one hold it. */
export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
  readonly [field: string]: unknown;
}

export interface AslState {
  readonly Type: string;
  readonly Resource?: unknown;
  readonly Retry?: unknown[];
  readonly [field: string]: unknown;
}

/**
 * A state machine's definition, read from its ASL file: the very file the stack deploys and
 * local runs execute. Lambda tasks name their function as `Fn::GetAtt: [<function>, Arn]`.
 */
export function loadDefinition(name: StateMachineName): AslDefinition {
  const path = new URL(`./${name}.asl.yml`, import.meta.url);
  return parse(readFileSync(path, 'utf8')) as AslDefinition;
}

/**
 * The Lambda functions a definition calls (`Fn::GetAtt: [<function>, Arn]`), in order of first
 * call: the ASL file says which tasks a machine has.
 */
export function lambdaTasksOf(definition: AslDefinition): string[] {
  const names: string[] = [];
  for (const state of Object.values(definition.States)) {
    const getAtt = (state.Resource as { 'Fn::GetAtt'?: [string, string] } | undefined)?.[
      'Fn::GetAtt'
    ];
    if (getAtt && !names.includes(getAtt[0])) names.push(getAtt[0]);
  }
  return names;
}
