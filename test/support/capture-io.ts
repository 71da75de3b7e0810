import { Writable } from 'node:stream';
import type { Io } from '../../terminal/output.js';

/** An Io that keeps what a command writes, for assertions. */
export function captureIo(): Io & { stdout: () => string; stderr: () => string } {
  const sink = () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    return { stream, text: () => chunks.join('') };
  };
  const out = sink();
  const err = sink();
  return { out: out.stream, err: err.stream, stdout: out.text, stderr: err.text };
}
