import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../shared/manifest/canonical-json.js';

const json = fc.jsonValue({ maxDepth: 4 });

/** The same value with every object's keys in another order. */
function shuffleKeys(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v, i) => shuffleKeys(v, seed + i));
  if (value && typeof value === 'object') {
    const entries = Object.entries(value);
    const rotated = entries.map(
      (_, i) => entries[(i + seed) % entries.length] as [string, unknown],
    );
    return Object.fromEntries(rotated.reverse().map(([k, v]) => [k, shuffleKeys(v, seed + 1)]));
  }
  return value;
}

describe('canonical JSON properties', () => {
  it('gives the same text for the same value, whatever the key order', () => {
    fc.assert(
      fc.property(json, fc.nat(), (value, seed) => {
        expect(canonicalJson(shuffleKeys(value, seed))).toBe(canonicalJson(value));
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trips: parsing the text gives back what JSON can hold of the value', () => {
    fc.assert(
      fc.property(json, (value) => {
        // JSON itself writes -0 as 0; canonical JSON does the same.
        expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 1000 },
    );
  });
});
