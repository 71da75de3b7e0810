import { describe, expect, it } from 'vitest';
import { canonicalJson, NotCanonicalError } from '../../shared/manifest/canonical-json.js';

describe('canonicalJson', () => {
  it('sorts keys at every depth and leaves out whitespace', () => {
    // Act
    const text = canonicalJson({ b: 1, a: { d: [true, null, 'x'], c: 2.5 } });

    // Assess
    expect(text).toBe('{"a":{"c":2.5,"d":[true,null,"x"]},"b":1}');
  });

  it('escapes strings as JSON does, unicode included', () => {
    // Act
    const text = canonicalJson({ é: 'line\nbreak "quoted" ✓' });

    // Assess
    expect(text).toBe('{"é":"line\\nbreak \\"quoted\\" ✓"}');
  });

  it.each([
    ['undefined', { a: undefined }, '.a: undefined is not JSON'],
    ['NaN', { a: Number.NaN }, '.a: NaN is not a JSON number'],
    ['a Date', { a: new Date(0) }, '.a: only plain objects, arrays and primitives are canonical'],
    ['a function', [() => 1], '[0]: function is not JSON'],
  ])('refuses %s, naming where', (_, value, message) => {
    // Act
    const act = () => canonicalJson(value);

    // Assess
    expect(act).toThrow(NotCanonicalError);
    expect(act).toThrow(message);
  });
});
