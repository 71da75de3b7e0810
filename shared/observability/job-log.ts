/** What jobs log through: Powertools' Logger in Lambda, a console writer in the CLI. */
export interface JobLog {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  warn(message: string, ...extra: Record<string, unknown>[]): void;
  error(message: string, ...extra: Record<string, unknown>[]): void;
}

/** A log that drops everything, for callers that report results themselves. */
export const silentLog: JobLog = { info() {}, warn() {}, error() {} };

/**
 * A one-line account of an error for results and logs: its name and message, never the object
 * (which can carry request parameters).
 */
export function errorSummary(error: unknown): string {
  if (error instanceof Error) {
    const text = `${error.name}: ${error.message}`;
    return text.length > 500 ? `${text.slice(0, 497)}...` : text;
  }
  return 'UnknownError: a non-Error value was thrown';
}
