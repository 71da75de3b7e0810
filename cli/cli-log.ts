import type { JobLog } from '../shared/observability/job-log.js';
import { type Io, line } from '../terminal/output.js';

/** Job progress for people, on standard error; results go to standard output. */
export function cliLog(io: Io, verbose = false): JobLog {
  const write = (level: string, message: string, extra: Record<string, unknown>[]) => {
    const details = extra.flatMap((e) => Object.entries(e).map(([k, v]) => `${k}=${String(v)}`));
    line(io.err, `${level} ${message}${details.length ? ` ${details.join(' ')}` : ''}`);
  };
  return {
    info: (message, ...extra) => {
      if (verbose) write('info ', message, extra);
    },
    warn: (message, ...extra) => write('warn ', message, extra),
    error: (message, ...extra) => write('error', message, extra),
  };
}
