import type { AslDefinition, AslState } from '../../state-machines/definitions.js';
import type { SdkIntegration } from './sdk-integration.js';

// aws-local-stepfunctions targets Node 22; Promise.withResolvers is all it uses of it.
const promises = Promise as unknown as { withResolvers?: unknown };
if (!promises.withResolvers) {
  promises.withResolvers = <T>() => {
    let resolve!: (value: T | PromiseLike<T>) => void;
    let reject!: (reason?: unknown) => void;
    const promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

/** A Lambda task run in-process: the task's input in, its result out; errors keep their names. */
export type LambdaTask = (input: unknown) => Promise<unknown>;

export interface LocalExecution {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output: unknown;
  readonly error?: string;
  readonly cause?: string;
  /** States entered, in order. */
  readonly path: readonly string[];
  /** States that failed and were retried, once per retry, in order. */
  readonly retried: readonly string[];
  /** States whose error a Catch handled, with the error's name: `State: Error`. */
  readonly caught: readonly string[];
  /** State transitions as Step Functions bills them: every state entered, every retry. */
  readonly transitions: number;
  /** The largest state input or output, in bytes of JSON (Step Functions allows 256 KB). */
  readonly largestPayloadBytes: number;
  /** When each state was entered, in milliseconds since the epoch, in path order. */
  readonly enteredAt: readonly number[];
}

export interface LocalRunOptions {
  /** Lambda tasks by the function's name in serverless.yml (`Fn::GetAtt: [name, Arn]`). */
  readonly lambdas: Readonly<Record<string, LambdaTask>>;
  /** Runs `arn:aws:states:::aws-sdk:` tasks. */
  readonly sdk: SdkIntegration;
  /**
   * instant: Wait states and Retry pauses take no time. `{ clock }`: each Wait state moves that
   * clock on by its seconds instead of waiting (a local AWS that keeps AWS's time: what the
   * machine polls for has had the time to finish). Default real.
   */
  readonly waits?: LocalWaits;
  readonly executionName?: string;
  readonly startTime?: Date;
  /** Told each state's name as the execution enters it (progress on a terminal). */
  readonly onStateEntered?: (state: string) => void;
}

/** How a local run takes its Wait states: in real time, at once, or on a clock it moves on. */
export type LocalWaits =
  | 'real'
  | 'instant'
  | { readonly clock: (seconds: number) => Promise<unknown> };

const validated = new Set<string>();

/** A Wait state's seconds for its input: `Seconds`, or `SecondsPath` (a plain `$.a.b` path). */
function waitSeconds(state: AslState, input: unknown): number {
  const { Seconds, SecondsPath } = state as { Seconds?: number; SecondsPath?: string };
  if (typeof Seconds === 'number') return Seconds;
  if (!SecondsPath?.startsWith('$.')) return 0;
  let value: unknown = input;
  for (const key of SecondsPath.slice(2).split('.')) {
    value =
      value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  return typeof value === 'number' && value > 0 ? value : 0;
}

/** A state whose Parameters read `$$.Execution.StartTime`, given that time as a literal instead. */
function withStartTime(state: AslState, iso: string): AslState {
  const replace = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(replace);
    if (!value || typeof value !== 'object') return value;
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) =>
        key.endsWith('.$') && v === '$$.Execution.StartTime'
          ? [key.slice(0, -2), iso]
          : [key, replace(v)],
      ),
    );
  };
  const parameters = (state as { Parameters?: unknown }).Parameters;
  return parameters === undefined
    ? state
    : ({ ...state, Parameters: replace(parameters) } as AslState);
}

const SDK_TASK = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/;

/** A definition a local run cannot execute. */
export class LocalDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalDefinitionError';
  }
}

/**
 * Runs a state machine definition in-process with aws-local-stepfunctions: Lambda tasks call the
 * given functions, SDK integration tasks go through the generic adapter, everything else is the
 * engine's own Amazon States Language.
 */
export async function runLocally(
  definition: AslDefinition,
  input: unknown,
  options: LocalRunOptions,
): Promise<LocalExecution> {
  const { StateMachine } = await import('aws-local-stepfunctions');
  const states: Record<string, AslState> = {};
  const taskOverrides: Record<string, LambdaTask> = {};
  const waitOverrides: Record<string, number> = {};
  const retryOverrides: Record<string, number> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    let resolved = state;
    if (state.Type === 'Task') {
      const { override, arn } = taskOf(name, state.Resource, options);
      taskOverrides[name] = override;
      resolved = { ...state, Resource: arn };
    }
    const waits = options.waits;
    if (waits && waits !== 'real') {
      if (state.Type === 'Wait') waitOverrides[name] = 0;
      if (state.Retry) retryOverrides[name] = 0;
    }
    if (typeof waits === 'object' && state.Type === 'Wait') {
      // The wait, as a task that moves the clock on and passes its input through.
      const { Next, End } = state as { Next?: string; End?: boolean };
      taskOverrides[name] = async (input) => {
        await waits.clock(waitSeconds(state, input));
        return input;
      };
      resolved = {
        Type: 'Task',
        Resource: `arn:aws:lambda:us-east-1:000000000000:function:local-wait-${name}`,
        ...(Next ? { Next } : {}),
        ...(End ? { End } : {}),
      } as AslState;
    }
    states[name] = resolved;
  }

  const startTime = options.startTime ?? new Date();
  // The engine stamps $$.Execution.StartTime itself when it starts; a run at a given time reads
  // that time where the definition asks for it.
  if (options.startTime) {
    for (const [name, state] of Object.entries(states)) {
      states[name] = withStartTime(state, startTime.toISOString());
    }
  }
  const resolved = { ...definition, States: states };
  // The engine validates a definition (asl-validator) on construction; once per definition does.
  const text = JSON.stringify(resolved);
  const machine = new StateMachine(resolved as never, {
    validationOptions: { checkArn: true, checkPaths: true, noValidate: validated.has(text) },
  });
  validated.add(text);
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: taskOverrides as never,
      waitTimeOverrides: waitOverrides,
      retryIntervalOverrides: retryOverrides,
    },
    context: {
      Execution: {
        Id: `arn:aws:states:local:000000000000:execution:local:${options.executionName ?? 'local'}`,
        Name: options.executionName ?? 'local',
        StartTime: startTime.toISOString(),
        Input: input,
      },
    } as never,
  });

  const path: string[] = [];
  const retried: string[] = [];
  const caught: string[] = [];
  let lastError = '';
  const enteredAt: number[] = [];
  let largest = 0;
  let failure: { error?: string; cause?: string } = {};
  const size = (value: unknown) =>
    value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));
  const events = (async () => {
    for await (const event of execution.eventLogs as AsyncIterable<unknown>) {
      const e = event as {
        type: string;
        timestamp: number;
        state?: { name: string; input?: unknown; output?: unknown };
        Error?: string;
        Cause?: unknown;
      };
      if (e.type === 'StateEntered' && e.state) {
        options.onStateEntered?.(e.state.name);
        path.push(e.state.name);
        enteredAt.push(e.timestamp);
        largest = Math.max(largest, size(e.state.input));
      }
      if (e.type === 'StateFailed') lastError = e.Error ?? '';
      if (e.type === 'StateRetried' && e.state) retried.push(e.state.name);
      if (e.type === 'StateCaught' && e.state) caught.push(`${e.state.name}: ${lastError}`);
      if (e.type === 'StateExited' && e.state) largest = Math.max(largest, size(e.state.output));
      if (e.type === 'ExecutionFailed') {
        failure = {
          error: e.Error,
          cause: typeof e.Cause === 'string' ? e.Cause : JSON.stringify(e.Cause),
        };
      }
    }
  })();

  let output: unknown;
  let status: LocalExecution['status'] = 'SUCCEEDED';
  try {
    output = await execution.result;
  } catch {
    status = 'FAILED';
  }
  await events;
  return {
    status,
    output,
    ...(status === 'FAILED' ? failure : {}),
    path,
    retried,
    caught,
    transitions: path.length + retried.length,
    largestPayloadBytes: largest,
    enteredAt,
  };
}

function taskOf(
  name: string,
  resource: unknown,
  options: LocalRunOptions,
): { override: LambdaTask; arn: string } {
  const getAtt = (resource as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
  if (getAtt) {
    const fn = options.lambdas[getAtt[0]];
    if (!fn)
      throw new LocalDefinitionError(
        `${name} calls function ${getAtt[0]}, which this run does not provide`,
      );
    return { override: fn, arn: `arn:aws:lambda:us-east-1:000000000000:function:${getAtt[0]}` };
  }
  const sdk = typeof resource === 'string' ? SDK_TASK.exec(resource) : null;
  if (sdk) {
    const [, service = '', action = ''] = sdk;
    return {
      override: (input) => options.sdk(service, action, input),
      arn: `arn:aws:lambda:us-east-1:000000000000:function:sdk-${service}-${action}`,
    };
  }
  throw new LocalDefinitionError(
    `${name} has a resource a local run cannot execute: ${JSON.stringify(resource)}`,
  );
}
