/** A value canonical JSON can hold. */
export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** A value that is not plain JSON (undefined, a function, NaN, a Date, ...). */
export class NotCanonicalError extends Error {
  constructor(path: string, why: string) {
    super(`${path || '(root)'}: ${why}`);
    this.name = 'NotCanonicalError';
  }
}

/**
 * Canonical JSON: object keys sorted by code unit, no insignificant whitespace, numbers and strings
 * as JSON.stringify writes them. Equal values always give identical text, so the text's digest
 * can be signed and checked.
 *
 * @example canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  return write(value, '');
}

function write(value: unknown, path: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'string':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value))
        throw new NotCanonicalError(path, `${value} is not a JSON number`);
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value))
        return `[${value.map((v, i) => write(v, `${path}[${i}]`)).join(',')}]`;
      if (
        Object.getPrototypeOf(value) !== Object.prototype &&
        Object.getPrototypeOf(value) !== null
      ) {
        throw new NotCanonicalError(
          path,
          'only plain objects, arrays and primitives are canonical',
        );
      }
      const keys = Object.keys(value).sort();
      return `{${keys
        .map(
          (k) =>
            `${JSON.stringify(k)}:${write((value as Record<string, unknown>)[k], `${path}.${k}`)}`,
        )
        .join(',')}}`;
    }
    default:
      throw new NotCanonicalError(path, `${typeof value} is not JSON`);
  }
}
