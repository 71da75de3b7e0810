import type { Writable } from 'node:stream';

/**
 * Progress of long work, on standard error: on a terminal, one live line with the current step,
 * its state and the time since it started; elsewhere (a log, a pipe), one timestamped line each
 * time the step or its state changes. Results stay on standard output.
 */
export interface Progress {
  /** A new step begins. */
  step(label: string): void;
  /** The current step is in a new state (a state machine's state, say). */
  state(text: string): void;
  /** The work is over: the live line is cleared. */
  done(): void;
}

const SECOND = 1000;

export function progressOn(
  stream: Writable & { readonly isTTY?: boolean },
  clock: () => number = Date.now,
): Progress {
  let label = '';
  let detail = '';
  let started = clock();
  let timer: NodeJS.Timeout | undefined;
  const elapsed = () => `${((clock() - started) / SECOND).toFixed(1)}s`;
  const text = () => `${label}${detail ? `: ${detail}` : ''}`;

  if (!stream.isTTY) {
    const stamp = () => new Date(clock()).toISOString().slice(11, 19);
    return {
      step(next) {
        label = next;
        detail = '';
        started = clock();
        stream.write(`${stamp()} ${label}\n`);
      },
      state(next) {
        if (next === detail) return;
        detail = next;
        stream.write(`${stamp()} ${text()} (${elapsed()})\n`);
      },
      done() {},
    };
  }

  const draw = () => stream.write(`\r\x1b[2K${text()} (${elapsed()})`);
  const tick = () => {
    if (timer) return;
    timer = setInterval(draw, SECOND);
    timer.unref();
  };
  return {
    step(next) {
      label = next;
      detail = '';
      started = clock();
      draw();
      tick();
    },
    state(next) {
      detail = next;
      draw();
    },
    done() {
      if (timer) clearInterval(timer);
      timer = undefined;
      stream.write('\r\x1b[2K');
    },
  };
}

/** Progress that shows nothing (--json, tests). */
export const noProgress: Progress = { step() {}, state() {}, done() {} };
