import type * as z from 'zod/mini';
import { fieldProblems } from './zod-issues.js';

/** The event is not what the job accepts. Names each bad field. */
export class InvalidEventError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

/** Parses an event against a strict schema, naming every bad field in the error. */
export function parseEvent<S extends z.ZodMiniType>(schema: S, event: unknown): z.output<S> {
  const result = schema.safeParse(event, { reportInput: true });
  if (result.success) return result.data;
  const problems = fieldProblems(result.error.issues).map(
    (p) => `${p.path || '(event)'}: ${p.message}`,
  );
  throw new InvalidEventError(`invalid event: ${problems.join('; ')}`);
}
