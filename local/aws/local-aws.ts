import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '../free-port.js';

// moto's server, plus fixes where moto differs from AWS in ways Lifeboat depends on.
const MOTO_SERVER = fileURLToPath(new URL('./moto_server.py', import.meta.url));

/** moto is not installed; says how to install it. */
export class MotoMissingError extends Error {
  constructor(python: string) {
    super(
      `moto is not installed for ${python}. The local AWS is moto's server: install it with pip install "moto[server]" (Python 3.9+), or set MOTO_PYTHON to a Python that has it.`,
    );
    this.name = 'MotoMissingError';
  }
}

/**
 * How long each kind of RDS work takes in the local AWS, in seconds of its clock: a manual
 * snapshot, a copy (across regions or accounts), a restore (and an instance added to a restored
 * cluster), a read-replica promotion. On AWS each takes minutes to hours.
 */
export interface LocalTiming {
  readonly snapshot: number;
  readonly copy: number;
  readonly restore: number;
  readonly promote: number;
}

/**
 * The local AWS's pace unless told otherwise: AWS's minutes scaled down to seconds, long enough
 * that nothing a job starts is available when the job looks again at once.
 */
export const AWS_PACE: LocalTiming = { snapshot: 2, copy: 3, restore: 2, promote: 1 };

/** Everything at once, as moto is by itself: only where a caller says why (`instant`). */
const INSTANT: LocalTiming = { snapshot: 0, copy: 0, restore: 0, promote: 0 };

/** How RDS's events reach EventBridge: best effort, so dropped, duplicated or late on request. */
export interface EventDelivery {
  /** The chance each event is dropped, and duplicated (0 to 1). */
  readonly drop: number;
  readonly duplicate: number;
  /** Seconds (of the local clock) each event arrives late. */
  readonly delaySeconds: number;
  /** The next n events dropped, or duplicated. */
  readonly dropNext: number;
  readonly duplicateNext: number;
  /** Seeds the chances, for a run that repeats. */
  readonly seed: number;
}

/** What the local AWS's clock says, and what is still settling on it. */
export interface ClockView {
  readonly now: string;
  readonly offsetSeconds: number;
  readonly pending: readonly {
    readonly kind: keyof LocalTiming;
    /** For a copy: of a DB snapshot or a DB cluster snapshot (RDS caps each apart). */
    readonly family: 'instance' | 'cluster' | null;
    readonly account: string;
    readonly region: string;
    readonly id: string;
    readonly status: string;
    readonly readyAt: string;
    readonly inSeconds: number;
  }[];
  /** Events held back to arrive late. */
  readonly lateEvents: number;
  /** Seconds until the next thing settles or arrives; null when nothing is pending. */
  readonly nextInSeconds: number | null;
}

/** An event RDS sent (or would have sent) to EventBridge, and how often it was delivered. */
export interface EmittedEvent {
  readonly account: string;
  readonly region: string;
  readonly detailType: string;
  readonly detail: {
    readonly SourceArn: string;
    readonly SourceIdentifier: string;
    /** When it happened, on the local clock. */
    readonly Date: string;
    readonly EventID: string;
    readonly Message: string;
  };
  /** 0: dropped; 2: duplicated. */
  readonly delivered: number;
  readonly late: boolean;
}

/** A moto server on a free loopback port, for the demo and the tests. */
export interface LocalAws {
  /** e.g. http://127.0.0.1:41234, for AWS_ENDPOINT_URL */
  readonly endpoint: string;
  /** The local clock: it runs with real time, and moves on at once when advanced. */
  readonly clock: {
    read(): Promise<ClockView>;
    /** Moves the clock on; everything due by then has settled when it returns. */
    advance(seconds: number): Promise<ClockView>;
    /** Moves the clock to the moment the next pending thing settles (or nowhere). */
    advanceToNext(): Promise<ClockView>;
  };
  setTiming(timing: Partial<LocalTiming>): Promise<void>;
  setDelivery(delivery: Partial<EventDelivery>): Promise<void>;
  /** Every event RDS sent since the start (or the last reset). */
  events(): Promise<EmittedEvent[]>;
  /** Forgets every resource, as if freshly started. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalAwsOptions {
  /** The Python that has moto (default MOTO_PYTHON, else python3). */
  readonly python?: string;
  /**
   * How long RDS work takes (default AWS_PACE), or `{ instant: why }` for a caller that needs
   * moto's at-once resources and says why.
   */
  readonly timing?: Partial<LocalTiming> | { readonly instant: string };
}

/**
 * Starts moto's server on 127.0.0.1 (not localhost: S3 would try virtual-host names) on a free
 * port, and waits until it answers. The process is stopped with stop(), or when this one exits.
 */
export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const python = options.python ?? process.env.MOTO_PYTHON ?? 'python3';
  const timing = timingOf(options.timing);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(python, [MOTO_SERVER, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LIFEBOAT_LOCAL_TIMING: JSON.stringify(timing) },
  });
  const stopOnExit = () => child.kill('SIGKILL');
  process.once('exit', stopOnExit);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const exited = new Promise<Error>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) =>
      resolve(error.code === 'ENOENT' ? new MotoMissingError(python) : error),
    );
    child.once('exit', (code) =>
      resolve(
        /No module named .?moto/.test(stderr)
          ? new MotoMissingError(python)
          : new Error(
              `moto's server exited with code ${code} before it was ready: ${stderr.trim()}`,
            ),
      ),
    );
  });
  const ready = waitUntilAnswering(endpoint, 20_000);
  const first = await Promise.race([ready.then(() => undefined), exited]);
  if (first instanceof Error) {
    process.removeListener('exit', stopOnExit);
    child.kill('SIGKILL');
    throw first;
  }
  const control = <T>(method: 'GET' | 'POST', path: string, body?: object) =>
    controlCall<T>(endpoint, method, path, body);
  return {
    endpoint,
    clock: {
      read: () => control<ClockView>('GET', 'clock'),
      advance: (seconds) => control<ClockView>('POST', 'clock', { seconds }),
      advanceToNext: () => control<ClockView>('POST', 'clock', { toNext: true }),
    },
    async setTiming(change) {
      await control('POST', 'timing', change);
    },
    async setDelivery(change) {
      await control('POST', 'delivery', change);
    },
    events: () => control<EmittedEvent[]>('GET', 'events'),
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
      await control('POST', 'reset');
    },
    async stop() {
      process.removeListener('exit', stopOnExit);
      await stopProcess(child);
    },
  };
}

function timingOf(timing: LocalAwsOptions['timing']): LocalTiming {
  if (timing && 'instant' in timing) {
    if (!timing.instant.trim()) throw new Error('an instant local AWS needs a reason');
    return INSTANT;
  }
  return { ...AWS_PACE, ...timing };
}

/** A call to the local AWS's control API (its clock, timing, event delivery). */
async function controlCall<T>(
  endpoint: string,
  method: 'GET' | 'POST',
  path: string,
  body?: object,
): Promise<T> {
  const response = await fetch(`${endpoint}/_lifeboat/${path}`, {
    method,
    ...(body
      ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }
      : {}),
  });
  const answer = (await response.json()) as T & { error?: string };
  if (!response.ok) {
    throw new Error(`the local AWS refused ${method} ${path}: ${answer.error ?? response.status}`);
  }
  return answer;
}

async function waitUntilAnswering(endpoint: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      throw new Error(`moto's server did not answer on ${endpoint} within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}
