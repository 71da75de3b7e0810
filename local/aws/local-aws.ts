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

/** A moto server on a free loopback port, for the demo and the tests. */
export interface LocalAws {
  /** e.g. http://127.0.0.1:41234, for AWS_ENDPOINT_URL */
  readonly endpoint: string;
  /** Forgets every resource, as if freshly started. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Starts moto's server on 127.0.0.1 (not localhost: S3 would try virtual-host names) on a free
 * port, and waits until it answers. The process is stopped with stop(), or when this one exits.
 */
export async function startLocalAws(
  python = process.env.MOTO_PYTHON ?? 'python3',
): Promise<LocalAws> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn(python, [MOTO_SERVER, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
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
  return {
    endpoint,
    async reset() {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`moto reset failed: HTTP ${response.status}`);
    },
    async stop() {
      process.removeListener('exit', stopOnExit);
      await stopProcess(child);
    },
  };
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
