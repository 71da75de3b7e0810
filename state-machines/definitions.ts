import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

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

export type StateMachineName = 'restore-drill' | 'regional-failover';

/**
 * A state machine's definition, read from its ASL file: the very file the stack deploys and
 * local runs execute. Lambda tasks name their function as `Fn::GetAtt: [<function>, Arn]`.
 */
export function loadDefinition(name: StateMachineName): AslDefinition {
  const path = new URL(`./${name}.asl.yml`, import.meta.url);
  return parse(readFileSync(path, 'utf8')) as AslDefinition;
}
